# one-off generator: texts + gold mentions -> GSC+ layout with offsets (self-made English clinic notes, never tuned on)
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gsc_corpus import write_corpus  # noqa: E402

DOCS = {
"u01": ("Clinic letter. Thank you for referring this 7-year-old boy with behavioural difficulties. He was a floppy baby and walked at 26 months. He has a short attention span and sleeps poorly. On examination he has a long face, prominent ears and large testes are not yet present. His maternal uncle has learning difficulties.",
 [("floppy baby","HP:0008935"),("walked at 26 months","HP:0031936"),("short attention span","HP:0000736"),("sleeps poorly","HP:0002360"),("long face","HP:0000276"),("prominent ears","HP:0000411"),("behavioural difficulties","HP:0000708")]),
"u02": ("Seen with mum. 2-year-old girl with frequent chest infections and poor growth. Stools are pale and offensive. Clubbing of the fingers noted. Weight below the 0.4th centile. No hepatosplenomegaly.",
 [("frequent chest infections","HP:0002783"),("poor growth","HP:0001510"),("pale","HP:0011985"),("Clubbing of the fingers","HP:0100759")]),
"u03": ("22-year-old woman with recurrent pneumothorax. She is tall with long fingers and a high arched palate. Lens dislocation was found on slit lamp. Stretch marks over the lower back. Aortic root is dilated at 4.2 cm.",
 [("recurrent pneumothorax","HP:0002107"),("tall","HP:0000098"),("long fingers","HP:0100807"),("high arched palate","HP:0000218"),("Lens dislocation","HP:0001083"),("Stretch marks","HP:0001065"),("Aortic root is dilated","HP:0002616")]),
"u04": ("Neonatal unit. Term baby boy with a weak cry, feeding problems and episodes of apnoea. Joint contractures of the knees and elbows. Downslanting palpebral fissures. The testes are undescended. Chest X-ray: thin ribs.",
 [("weak cry","HP:0001612"),("feeding problems","HP:0011968"),("apnoea","HP:0002104"),("Joint contractures","HP:0034392"),("Downslanting palpebral fissures","HP:0000494"),("testes are undescended","HP:0000028"),("thin ribs","HP:0000883")]),
"u05": ("Epilepsy clinic. 5 year old girl, seizure onset at 4 months with prolonged febrile seizures, now daily myoclonic jerks. Development plateaued at 18 months. She is unsteady on her feet. MRI brain normal. No family history of epilepsy.",
 [("febrile seizures","HP:0002373"),("myoclonic jerks","HP:0001336"),("unsteady on her feet","HP:0002317"),("Development plateaued","HP:0001263")]),
"u06": ("Renal genetics. 40-year-old man with bilateral kidney cysts and blood in the urine. Liver cysts on CT. He has had two episodes of kidney stones. Blood pressure is raised. His father died on dialysis.",
 [("kidney cysts","HP:0000107"),("blood in the urine","HP:0000790"),("Liver cysts","HP:0001407"),("kidney stones","HP:0000787"),("Blood pressure is raised","HP:0000822")]),
"u07": ("Dysmorphology review. 3 year old boy with a broad forehead, widely spaced eyes and a flat nasal bridge. Ears are posteriorly rotated. Short neck. He has a heart murmur; echo shows pulmonary valve stenosis. Cryptorchidism on the left. Speech is delayed.",
 [("broad forehead","HP:0000337"),("widely spaced eyes","HP:0000316"),("flat nasal bridge","HP:0005280"),("Ears are posteriorly rotated","HP:0000358"),("Short neck","HP:0000470"),("pulmonary valve stenosis","HP:0001642"),("Cryptorchidism","HP:0000028"),("Speech is delayed","HP:0000750")]),
"u08": ("Adult neurology. 45 year old woman with slowly progressive walking difficulties and stiffness in the legs. Reflexes are brisk and plantars are upgoing. Urinary urgency. Sensation is normal. Her sister has a similar problem.",
 [("walking difficulties","HP:0001288"),("stiffness in the legs","HP:0002061"),("Reflexes are brisk","HP:0001347"),("plantars are upgoing","HP:0003487"),("Urinary urgency","HP:0000012")]),
}
print(write_corpus(DOCS, Path(sys.argv[1])))
