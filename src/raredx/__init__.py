"""raredx: rare-disease differential diagnosis over the official HPO, Orphanet and Mondo releases.

>>> from raredx import RareDx, Case                                  # doctest: +SKIP
>>> rdx = RareDx.load()                                               # doctest: +SKIP
>>> rdx.diagnose(Case(observed=("HP:0001166", "HP:0001083"))).diseases[0].name  # doctest: +SKIP
'Marfan syndrome'
"""

from raredx.core import RareDx
from raredx.engine import Case, DiagnosisEngine, Differential, Params, RankedDisease, Suggestion, TermEvidence
from raredx.errors import InputError, KnowledgeBaseError, RaredxError, UnknownTermError
from raredx.kb import Concept, KnowledgeBase, load_knowledge_base
from raredx.ontology import Ontology

__version__ = "0.1.0"

__all__ = [
    "Case",
    "Concept",
    "DiagnosisEngine",
    "Differential",
    "InputError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Ontology",
    "Params",
    "RankedDisease",
    "RareDx",
    "RaredxError",
    "Suggestion",
    "TermEvidence",
    "UnknownTermError",
    "__version__",
    "load_knowledge_base",
]
