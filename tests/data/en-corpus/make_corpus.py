# one-off generator: texts + gold mentions -> GSC+ layout with offsets (self-made English clinical sanity corpus)
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gsc_corpus import write_corpus  # noqa: E402

DOCS = {
"en01": ("A 4-year-old boy was referred for global developmental delay and seizures starting at 8 months. Examination showed microcephaly, hypertelorism and low-set ears. He has generalized hypotonia. Hearing is normal. His mother has epilepsy.",
 [("global developmental delay","HP:0001263"),("seizures","HP:0001250"),("microcephaly","HP:0000252"),("hypertelorism","HP:0000316"),("low-set ears","HP:0000369"),("generalized hypotonia","HP:0001290")]),
"en02": ("12-year-old girl with tall stature, arachnodactyly and bilateral ectopia lentis. Echocardiography showed aortic root dilatation and mitral valve prolapse. Mild scoliosis. No history of pneumothorax.",
 [("tall stature","HP:0000098"),("arachnodactyly","HP:0001166"),("ectopia lentis","HP:0001083"),("aortic root dilatation","HP:0002616"),("mitral valve prolapse","HP:0001634"),("scoliosis","HP:0002650")]),
"en03": ("Newborn with cleft palate, micrognathia and glossoptosis. A ventricular septal defect was found on echo. There was no hepatomegaly. Renal ultrasound was unremarkable.",
 [("cleft palate","HP:0000175"),("micrognathia","HP:0000347"),("glossoptosis","HP:0000162"),("ventricular septal defect","HP:0001629")]),
"en04": ("The patient is a 10-year-old boy with progressive proximal muscle weakness, calf pseudohypertrophy and a positive Gowers sign. He falls frequently. Cognition is normal. Creatine kinase was markedly elevated.",
 [("proximal muscle weakness","HP:0003701"),("calf pseudohypertrophy","HP:0003707"),("Gowers sign","HP:0003391"),("falls frequently","HP:0002359"),("Creatine kinase was markedly elevated","HP:0003236")]),
"en05": ("Seventeen-year-old with progressive ataxia, dysarthria and nystagmus. Deep tendon reflexes are absent in the lower limbs. Pes cavus bilaterally. Diabetes mellitus was ruled out. Echo showed hypertrophic cardiomyopathy.",
 [("ataxia","HP:0001251"),("dysarthria","HP:0001260"),("nystagmus","HP:0000639"),("Deep tendon reflexes are absent in the lower limbs","HP:0002522"),("Pes cavus","HP:0001761"),("hypertrophic cardiomyopathy","HP:0001639")]),
"en06": ("Three-year-old girl with speech delay, autistic behavior and hand stereotypies. She has never had seizures. Episodes of hyperventilation while awake. Acquired microcephaly.",
 [("speech delay","HP:0000750"),("autistic behavior","HP:0000729"),("hand stereotypies","HP:0000733"),("hyperventilation","HP:0002883"),("microcephaly","HP:0000252")]),
"en07": ("Adult male with multiple cafe-au-lait spots, cutaneous neurofibromas and axillary freckling. Lisch nodules on slit-lamp examination. He denies visual loss. His father had similar skin lesions.",
 [("cafe-au-lait spots","HP:0000957"),("neurofibromas","HP:0001067"),("axillary freckling","HP:0000997"),("Lisch nodules","HP:0009737")]),
"en08": ("9-year-old girl with short stature, a webbed neck and a low posterior hairline. Coarctation of the aorta was repaired at age 1. Lymphedema of the feet was noted at birth. Intelligence is within normal limits.",
 [("short stature","HP:0004322"),("webbed neck","HP:0000465"),("low posterior hairline","HP:0002162"),("Coarctation of the aorta","HP:0001680"),("Lymphedema","HP:0001004")]),
"en09": ("Infant with failure to thrive, recurrent vomiting and fasting hypoglycemia. Hepatomegaly and enlarged kidneys on ultrasound. Splenomegaly was not observed. Seizures occurred during hypoglycemic episodes.",
 [("failure to thrive","HP:0001508"),("recurrent vomiting","HP:0002013"),("fasting hypoglycemia","HP:0003162"),("Hepatomegaly","HP:0002240"),("enlarged kidneys","HP:0000105"),("Seizures","HP:0001250")]),
"en10": ("Woman aged 30 with hyperextensible skin, joint hypermobility and atrophic scars. She bruises easily. Recurrent shoulder dislocations. No arterial aneurysms were detected on imaging.",
 [("hyperextensible skin","HP:0000974"),("joint hypermobility","HP:0001382"),("atrophic scars","HP:0001075"),("bruises easily","HP:0000978"),("Recurrent shoulder dislocations","HP:0031610")]),
"en11": ("Boy, 8 years, with obesity, hyperphagia and intellectual disability. Reduced visual acuity and nystagmus since infancy. Postaxial polydactyly of both feet. Possible renal cysts on ultrasound; no proteinuria.",
 [("obesity","HP:0001513"),("hyperphagia","HP:0002591"),("intellectual disability","HP:0001249"),("Reduced visual acuity","HP:0007663"),("nystagmus","HP:0000639"),("Postaxial polydactyly of both feet","HP:0001830"),("renal cysts","HP:0000107")]),
"en12": ("Toddler with multiple fractures after minimal trauma and blue sclerae. Bowing of the legs. Dentinogenesis imperfecta. Hearing loss is absent. Family history of osteoporosis in the grandmother.",
 [("multiple fractures after minimal trauma","HP:0002757"),("blue sclerae","HP:0000592"),("Bowing of the legs","HP:0002979"),("Dentinogenesis imperfecta","HP:0000703")]),
}
print(write_corpus(DOCS, Path(sys.argv[1])))
