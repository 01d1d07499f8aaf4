"""Clinical text to HPO terms, in English and Russian, with negation, uncertainty and family history.

>>> from raredx.extract import Extractor, observed_and_excluded        # doctest: +SKIP
>>> ex = Extractor.load()                                               # doctest: +SKIP
>>> terms = ex.extract("Судороги с 6 месяцев, тугоухости нет.")        # doctest: +SKIP
>>> observed_and_excluded(terms)                                        # doctest: +SKIP
(('HP:0001250',), ('HP:0000365',))
"""

from raredx.extract._definitions import DEFINITIONS_FILE, write_definition_terms
from raredx.extract._demographics import Demographics, demographics
from raredx.extract._extractor import LANGUAGES, Extractor
from raredx.extract._io import read_text
from raredx.extract._labels import TermLabels
from raredx.extract._model import ExtractedTerm, observed_and_excluded, onset_of

__all__ = ["DEFINITIONS_FILE", "LANGUAGES", "Demographics", "ExtractedTerm", "Extractor", "TermLabels", "demographics", "observed_and_excluded", "onset_of", "read_text", "write_definition_terms"]
