# one-off generator: texts + gold mentions -> GSC+ layout with offsets (self-made English clinic notes)
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gsc_corpus import write_corpus  # noqa: E402

DOCS = {
"note01": ("Genetics clinic. 4-year-old girl referred for developmental regression. She walked at 2 years and speaks only a few words. Hand-flapping and hand-wringing stereotypies, poor eye contact. Head circumference has fallen from the 50th to the 3rd centile. No seizures so far. Mother is well.",
 [("developmental regression","HP:0002376"),("walked at 2 years","HP:0031936"),("speaks only a few words","HP:0000750"),("Hand-flapping","HP:0100023"),("hand-wringing","HP:0012171"),("stereotypies","HP:0000733"),("poor eye contact","HP:0000817")]),
"note02": ("12-year-old boy seen in cardiology. Tall, thin, with long slender fingers. Wears glasses for high myopia. Echo: dilated aortic root, mild mitral valve prolapse. Pectus excavatum. Denies chest pain. Father is 198 cm tall.",
 [("Tall","HP:0000098"),("thin","HP:0001533"),("long slender fingers","HP:0001166"),("high myopia","HP:0011003"),("dilated aortic root","HP:0002616"),("mitral valve prolapse","HP:0001634"),("Pectus excavatum","HP:0000767")]),
"note03": ("Respiratory clinic, 6-year-old boy. Recurrent chest infections since infancy, chronic productive cough. Mother reports salty sweat. Poor weight gain despite a good appetite; loose, greasy stools. Sweat test pending. Hearing normal.",
 [("Recurrent chest infections","HP:0002783"),("chronic productive cough","HP:0031245"),("salty sweat","HP:0012236"),("Poor weight gain","HP:0001508"),("greasy stools","HP:0002570")]),
"note04": ("Neurology follow-up. 9 year old girl with learning disability and attention problems. Obese. Café-au-lait macules, more than six, and axillary freckling. Two plexiform neurofibromas on the trunk. Denies vision problems; ophthalmology normal.",
 [("learning disability","HP:0001328"),("attention problems","HP:0000736"),("Obese","HP:0001513"),("Café-au-lait macules","HP:0000957"),("axillary freckling","HP:0000997"),("plexiform neurofibromas","HP:0009732")]),
"note05": ("Newborn male, day 2. Marked hypotonia and poor suck, needs tube feeding. Almond-shaped eyes, small hands and feet. Undescended testes bilaterally. No cardiac murmur.",
 [("hypotonia","HP:0001252"),("poor suck","HP:0002033"),("tube feeding","HP:0033454"),("Almond-shaped eyes","HP:0007874"),("small hands","HP:0200055"),("feet","HP:0001773"),("Undescended testes","HP:0000028")]),
"note06": ("3 year old boy with global developmental delay. He sat at 14 months and is not yet walking. No words. Seizures started at 10 months; EEG shows hypsarrhythmia. Microcephalic. Feeding difficulties. Family history is unremarkable.",
 [("global developmental delay","HP:0001263"),("sat at 14 months","HP:0025336"),("No words","HP:0001344"),("Seizures","HP:0001250"),("hypsarrhythmia","HP:0002521"),("Microcephalic","HP:0000252"),("Feeding difficulties","HP:0011968")]),
"note07": ("Adult woman aged 35, referred by dermatology. Skin is hyperextensible and bruises easily. Widened atrophic scars over both knees. Recurrent joint dislocations of the shoulders. Chronic pain. No history of arterial rupture.",
 [("hyperextensible","HP:0000974"),("bruises easily","HP:0000978"),("atrophic scars","HP:0031158"),("Recurrent joint dislocations of the shoulders","HP:0031610"),("Chronic pain","HP:0012532")]),
"note08": ("Boy, 7 years. Short stature, height below the 3rd centile. Relative macrocephaly, frontal bossing, midface hypoplasia. Trident hands. Lumbar lordosis is marked. Intelligence is normal.",
 [("Short stature","HP:0004322"),("Relative macrocephaly","HP:0004482"),("frontal bossing","HP:0002007"),("midface hypoplasia","HP:0011800"),("Trident hands","HP:0004060"),("Lumbar lordosis","HP:0002938")]),
"note09": ("Metabolic clinic. 18-month-old girl with hepatomegaly and recurrent hypoglycaemia on fasting. Doll-like face. Lactic acidosis during illness. Growth is slow. Spleen not palpable.",
 [("hepatomegaly","HP:0002240"),("recurrent hypoglycaemia","HP:0001988"),("Doll-like face","HP:0000295"),("Lactic acidosis","HP:0003128"),("Growth is slow","HP:0001510")]),
"note10": ("Ophthalmology letter. 15-year-old boy with night blindness since early childhood and constricted visual fields. Fundoscopy: bone-spicule pigmentation. Cataract was excluded. He also has hearing loss, first noted at age 5.",
 [("night blindness","HP:0000662"),("constricted visual fields","HP:0001133"),("bone-spicule pigmentation","HP:0007737"),("hearing loss","HP:0000365")]),
"note11": ("8-year-old girl with ataxia since age 4. She falls frequently and her speech is slurred. Reflexes are absent. Pes cavus. Mild scoliosis. Echo showed hypertrophic cardiomyopathy. Her brother has diabetes.",
 [("ataxia","HP:0001251"),("falls frequently","HP:0002359"),("speech is slurred","HP:0001350"),("Reflexes are absent","HP:0001284"),("Pes cavus","HP:0001761"),("scoliosis","HP:0002650"),("hypertrophic cardiomyopathy","HP:0001639")]),
"note12": ("Paediatric review, 5-year-old boy. Difficulty climbing stairs and rising from the floor, positive Gowers sign. Calves are enlarged. CK markedly raised. Speech delay. No cardiac symptoms.",
 [("Difficulty climbing stairs","HP:0003551"),("Gowers sign","HP:0003391"),("Calves are enlarged","HP:0008981"),("CK markedly raised","HP:0003236"),("Speech delay","HP:0000750")]),
"note13": ("Infant, 4 months, girl. Cleft palate, small jaw and the tongue falls back. Stridor when supine. Ears are low-set. Heart: VSD on echo. Thymus not seen.",
 [("Cleft palate","HP:0000175"),("small jaw","HP:0000347"),("tongue falls back","HP:0000162"),("Stridor","HP:0010307"),("Ears are low-set","HP:0000369"),("VSD","HP:0001629")]),
"note14": ("Teenage girl, 14 years, seen for absent periods. Short stature. Webbed neck and low hairline at the back. Widely spaced nipples. Lymphoedema of the feet at birth. Coarctation repaired in infancy.",
 [("absent periods","HP:0000786"),("Short stature","HP:0004322"),("Webbed neck","HP:0000465"),("low hairline at the back","HP:0002162"),("Widely spaced nipples","HP:0006610"),("Lymphoedema","HP:0001004"),("Coarctation","HP:0001680")]),
"note15": ("Neurology clinic. 30 year old man with progressive muscle weakness and difficulty releasing his grip. Cataracts at 28. Frontal balding. Daytime sleepiness. Denies swallowing problems.",
 [("progressive muscle weakness","HP:0003323"),("difficulty releasing his grip","HP:0012899"),("Cataracts","HP:0000518"),("Frontal balding","HP:0002292"),("Daytime sleepiness","HP:0001262")]),
"note16": ("Developmental clinic, boy aged 6. Autistic features with repetitive behaviours and no interest in other children. Intellectual disability, moderate. Long face, large ears. Hyperactive. Mother had premature ovarian failure.",
 [("Autistic features","HP:0000729"),("repetitive behaviours","HP:0000733"),("Intellectual disability, moderate","HP:0002342"),("Long face","HP:0000276"),("large ears","HP:0000400"),("Hyperactive","HP:0000752")]),
"note17": ("Renal clinic. 10-year-old girl with kidney cysts on ultrasound and high blood pressure. Liver is enlarged. Polyuria and excessive thirst. No haematuria. Her father is on dialysis.",
 [("kidney cysts","HP:0000107"),("high blood pressure","HP:0000822"),("Liver is enlarged","HP:0002240"),("Polyuria","HP:0000103"),("excessive thirst","HP:0001959")]),
"note18": ("Skeletal dysplasia clinic. 2-year-old boy with blue sclerae and three fractures after minor falls. Bowed legs. Teeth are discoloured and brittle. Hearing is normal. Joints are hypermobile.",
 [("blue sclerae","HP:0000592"),("fractures after minor falls","HP:0002757"),("Bowed legs","HP:0002979"),("Teeth are discoloured","HP:0011073"),("Joints are hypermobile","HP:0001382")]),
}
print(write_corpus(DOCS, Path(sys.argv[1])))
