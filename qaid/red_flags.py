"""Red-flag symptoms in a patient's own words: the one detector that decides when the bot gives emergency advice.

Both interpreters use it: the Rasa NLU pipeline (``bot.red_flags.RedFlagDetector`` makes any message with a
red flag an ``emergency``, in every state) and the action that answers it (``actions.consultation``).
A red flag counts only when it is reported now: not negated ("no chest pain", "I haven't passed out"), not in
the past ("I had a stroke 5 years ago", "as a teenager"), not a question about a word, a risk or an image
("what is a seizure?", "does this CT show a stroke?"), not hypothetical ("if she ever has a fit") and not
figurative ("my phone battery is dying"). Patterns follow the NHS "call 999" list, written as patients write
(typos and all). Measured by ``bench/red_flag_report.py`` on ``tests/red_flags/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The key under which the Rasa NLU pipeline (``bot.red_flags.RedFlagDetector``) puts a message's red flag.
RED_FLAG_KEY = "red_flag"
# The flag of an emergency the learned classifier (``bot.red_flag_classifier``) found and no pattern named.
DESCRIBED_EMERGENCY = "emergency described in the patient's words"

_W = r"(?:\W+\w+){0,%d}\W+"  # up to N words in between
_PERSON = r"(?:my|his|her|their|the|your)"
_CANT = r"(?:can'?t|cannot|can not|cant|unable to|not able to|struggling to|barely|hardly|hard to|couldn'?t)"
_BREATHE = r"br[ea]+th\w*"
_SEVERE = (r"(?:sudden(?:ly)?|severe|agoni[sz]ing|excruciating|unbearable|terrible|horrible|horrendous|crushing|"
           r"worst|awful|intense|stabbing|tearing|splitting|blinding|explosive|horrific|extreme)")
_CHEST = r"(?:ch[ea]?st|breast ?bone|sternum)"
_PRONOUN = r"(?:him|her|them|me|it)"
_TEN = r"(?:10|ten) ?(?:/|out of) ?(?:10|ten)"

# Each red flag: patterns any one of which reports it.
RED_FLAGS: dict[str, tuple[str, ...]] = {
    "chest pain": (
        rf"{_CHEST}{_W % 4}?(?:pain|pressure|tight\w*|hurt\w*|squeez\w*|crush\w*|heav\w*|ach\w*|agony|grip\w*)",
        rf"(?:pain|pressure|tight\w*|band|squeez\w*|crush\w*|ache|grip\w*){_W % 4}?(?:in|across|on|of|behind) "
        rf"(?:{_PERSON} )?{_CHEST}",
        rf"(?:clutch|grabb?|hold)\w* (?:at )?{_PERSON} chest|sitting on {_PERSON} chest|"
        rf"(?:going|goes|spreading|radiating) (?:down|into|to|up) {_PERSON} (?:left )?(?:arm|jaw|shoulder)|"
        rf"(?<!of )(?:having|think it'?s|it'?s) an? heart attack|"
        rf"{_CHEST}(?:\W+\w+){{0,4}}\W+like never before",
        r"elephant (?:is )?(?:sitting|standing|on)|(?:gtn|angina spray)(?:\W+\w+){0,8}\W+(?:still there|not "
        r"(?:helping|working)|isn'?t (?:helping|working))",
    ),
    "trouble breathing": (
        rf"{_CANT} (?:\w+ )?(?:{_BREATHE}|get (?:any |enough )?air|catch (?:my|his|her|their|a) breath|"
        r"get (?:a |any |enough |my |his |her |their )?breath)|can'?t (?:get|finish|say) (?:a |full |whole )?(?:sen"
        r"tence|"
        r"words?)(?: out)?",
        rf"(?:not|isn'?t|stopped|stopping|struggling for|fighting for|gasping for) (?:\w+ )?{_BREATHE}|"
        rf"struggl\w* (?:\w+ ){{0,3}}(?:to )?{_BREATHE}|whistl\w* (?:\w+ ){{0,3}}{_BREATHE}|stridor|"
        r"(?:puffs|inhaler|ventolin|salbutamol|reliever)(?:\W+\w+){0,8}\W+still (?:wheez\w*|breathless|struggling)",
        rf"(?:trouble|difficulty|problems?) {_BREATHE}",
        r"(?:lips|face|skin|finger\w*|nails) (?:\w+ ){0,3}(?:blu(?:e|ish)|grey|gray|purple|dusky)|"
        r"(?:turn\w*|gone|going|went) (?:\w+ ){0,3}(?:blu(?:e|ish)|dusky)|blu(?:e|ish) (?:\w+ ){0,2}(?:round|around) "
        r"(?:the|his|her|their) (?:mouth|lips)",
        r"can'?t (?:finish a sentence|speak|talk) (?:\w+ ){0,3}(?:breath|air|wheez\w*)|wheez\w* (?:so )?bad\w*",
        r"\bchok(?:ing|ed)\b|\bgasping\b|inhaler (?:\w+ )?(?:isn'?t|is not|not) (?:working|helping)|"
        r"inhaler (?:\w+ ){0,2}(?:did|does|doing) nothing",
        r"(?:hardly|barely) breathing|suffocat\w*|every breath (?:\w+ ){0,2}(?:struggle|fight|effort)|"
        r"(?:breath\w*) (?:is |feels )?(?:so|really|very) hard|too (?:breathless|out of breath|wheezy) to|"
        r"can'?t make a (?:sound|noise)|(?:caving|sucking) in|pulling in (?:\w+ ){0,2}(?:neck|ribs|throat)|"
        r"breath\w* (?:\w+ ){0,2}through a (?:\w+ )?(?:straw|stirrer)",
        rf"stuck in {_PERSON} (?:throat|windpipe)|heimli\w*|still stuck in (?:his|her|my|their|the) throat|"
        rf"(?:grabb|claw|clutch)\w* (?:at )?{_PERSON} (?:neck|throat)|hands? (?:at|on|round|around) {_PERSON} (?:ne"
        rf"ck|throat)|no sound at all|"
        rf"(?:struggling|fighting|gasping) for air|hard(?:er)? to {_BREATHE}",
        r"asthma attack (?:\w+ ){0,3}(?:bad|severe|not stopping|getting worse)|(?:bad|severe) asthma attack|"
        r"(?:middle of|having) an? asthma attack|sudden\w* (?:\w+ ){0,2}(?:short(?:ness)? of breath|breathless)",
    ),
    "stroke signs": (
        r"\bstroke\b",
        r"droop\w*|lopsided|(?:face|smile|mouth) (?:\w+ ){0,2}crooked|crooked (?:smile|face|mouth)|"
        r"one side of (?:my|his|her|their|the) (?:face|mouth|body|vision)|"
        r"(?:left|right) side of (?:my|his|her|their|the) (?:body|vision)",
        rf"{_CANT.replace('|barely|hardly', '')} (?:lift|raise|move|feel) (?:{_PERSON}|both|"
        rf"one) (?:\w+ )?(?:arm|leg|hand)",
        r"half of what (?:i'?m|im|i am) (?:looking at|seeing)|can'?t hold (?:\w+ ){0,2}(?:fork|cup|spoon|pen|phone)|"
        r"(?:face|mouth|smile)(?:\W+\w+){0,5}\W+one side|"
        r"(?:arm|hand|leg|side|face)s? (?:has |is |are |feels? |went |gone |just |completely |all )*(?:suddenly )?"
        r"(?:weak|numb|dead|limp|heavy|floppy)",
        r"(?:dropping|drops) (?:\w+ ){0,4}(?:left|right|one) hand|(?:leg|foot) (?:is )?dragging|"
        r"(?:left|right) hand (?:won'?t|can'?t) grip",
        r"sudden\w* (?:\w+ ){0,2}(?:doesn'?t|does not|can'?t) (?:know where|understand|recogni[sz]e)|"
        r"(?:speech|talking|words) (?:is |are )?(?:all )?(?:muddled|garbled|jumbled|slurred)|"
        r"(?:confus\w*|muddled) (?:\w+ ){0,2}(?:out of nowhere|all of a sudden|out of the blue)",
        r"(?:face|mouth|smile) (?:\w+ ){0,3}(?:on )?one side|only one side (?:of \w+ )?mov\w*|"
        r"(?:speech|voice|talking) (?:\w+ ){0,2}(?:drunk|slurr\w*|thick)|sudden\w* (?:\w+ ){0,2}(?:not able|unable) to "
        r"(?:speak|talk)|(?:left|right|one) side (?:\w+ ){0,3}not moving|half (?:of )?(?:my|his|her|their) body|"
        r"(?:arm|leg|hand|side)s? (?:\w+ ){0,4}(?:don'?t|doesn'?t|won'?t) work|pupils? (?:\w+ ){0,4}bigger than",
        r"half (?:of )?(?:my|his|her|their|the) face|can'?t smile|can'?t find (?:my|his|her|their|the) words|"
        r"(?:face|mouth|smile|eyelid|side)\w* (?:\w+ ){0,2}(?:saggy|sagging)",
        r"slurr?\w*|gibberish|words (?:are )?(?:coming out )?(?:all )?(?:wrong|jumbled|muddled)|"
        r"can'?t get (?:my|his|her) words",
        r"sudden\w* (?:\w+ ){0,3}(?:confus\w*|blind\w*|lost (?:the )?(?:vision|sight)|can'?t see)",
        r"(?:lost|losing) (?:the |my |his |her )?(?:vision|sight) in",
    ),
    "loss of consciousness": (
        r"passed out|pass(?:ing)? out|\bfaint(?:ed|ing)\b|uncon\w*ous|unresponsive|collapsed|knocked out|"
        r"losing consciousness|out cold|kee?led over|slumped (?:over|on the floor|and)|went down like|"
        r"dropped to the (?:ground|floor)|"
        r"blacked out|(?:isn'?t|not) awake (?:and|or|at all|after)|can'?t keep (?:him|her|them) awake|"
        r"(?:he|she|they|he'?s|she'?s|they'?re|dad|mum|mom) (?:\w+ )?(?:gone|turned|going) (?:a )?(?:funny|strange|"
        r"weird|odd) "
        r"colou?r|(?:going|gone|went) floppy",
        r"(?:can'?t|cannot|couldn'?t) (?:rouse|wake) (?!up\b|myself)\w+|"
        r"(?:isn'?t|not|stopped) (?:reacting|responding)|"
        r"(?:isn'?t|not) (?:moving|answering) (?:(?:me|us|him|her) )?(?:or|and|at all)|not answering (?:anybody|"
        r"anyone)|"
        r"(?:went|gone|going) limp|eyes half open",
        r"(?:not|isn'?t|is not|aren'?t|stopped|won'?t|doesn'?t) (?:\w+ )?(?:respond\w*|wake|waking|breathing)",
        r"(?:hard(?:er)?|can'?t|cannot|impossible) to (?:wake|rouse)|can'?t wake (?:him|her|them)",
        r"(?:dropped|fell|fallen) (?:down )?(?:to|on) the (?:\w+ )?floor|on the (?:\w+ )?floor (?:and|not)",
    ),
    "seizure": (
        r"seizures?|convuls\w+|\bfits?\b|fitting|shaking all over|jerk\w* (?:all over|uncontrollably)|"
        r"eyes (?:have |had |are |were )?roll\w* back|(?:stiff|rigid) (?:\w+ ){0,3}(?:jerk|shak|twitch)\w*|"
        r"(?:foam|froth)\w* at the mouth|(?:gone|went|going) (?:all )?(?:stiff|rigid) (?:\w+ ){0,8}(?:jerk|shak|twi"
        r"tch)\w*|twitch\w* (?:\w+ ){0,4}(?:won'?t|wont) stop|twitch\w* rhythmic\w*|rhythmic\w* twitch\w*|"
        r"jerk\w* (?:\w+ ){0,2}(?:won'?t|wont) stop",
    ),
    "heavy bleeding": (
        r"(?:vomit\w*|throw\w* up|threw up|cough\w* up|spit\w*(?: up| out)?|being sick|sick) (?:\w+ ){0,5}blood|"
        r"coffee grounds|tarry|like tar|so much blood|soak\w* through (?:\w+ ){0,2}(?:towel|bandage|dressing|pad)|"
        r"blood (?:\w+ )?soak\w* through|"
        r"black (?:and \w+ )?(?:poo|stools?)|(?:losing|lost) (?:a lot of|lots of|so "
        r"much) blood",
        r"blood (?:is |keeps )?(?:spurt|pour|gush|pump|everywhere)\w*|(?:spurt|pour|gush|pump)\w* (?:with |out )?blood",
        r"(?:heavy|severe|a lot of|lots of|uncontrollable|massive|heavily) bleed\w*",
        r"(?:nose)?bleed\w* (?:heavily|badly|a lot|loads|everywhere|won'?t stop|that won'?t stop|non ?stop)",
        r"(?:won'?t|doesn'?t|will not) stop bleeding|still (?:bleeding|pouring)|soaked (?:through )?(?:with|in) blood",
        r"(?:mouth|bowl|cup|bucket)(?:s|ful|fuls)? (?:full )?of (?:\w+ ){0,2}blood|(?:loads|lots|pints?|pools?|"
        r"puddles?) of blood\b(?! tests?| pressure| sugar| work)|"
        r"blood (?:\w+ ){0,6}(?:loads|lots) of it|soak\w* (?:through )?(?:a |one )?(?:pad|towel)s? (?:every|an|in|e"
        r"ach)|"
        r"(?:passing|passed) (?:big|large|huge) clots|(?:gone|went|going) through (?:\w+ ){0,2}(?:towels|bandages|"
        r"dressings|pads)|(?:got|been|was|just) stabbed|^\W*stabbed\b|stab wound|"
        r"blood (?:is )?coming through (?:his|her|my|their) "
        r"fingers|(?:won'?t|doesn'?t|will not) clot|deep (?:gash|cut|wound)",
    ),
    "thoughts of self-harm": (
        r"suicid\w*|kill (?:my|him|her|them)sel(?:f|ves)|end(?:ing)? (?:my|his|her|their) (?:own )?li(?:fe|ves)|"
        r"end it all|better off dead|(?:going|want|wants|wanted|wanna) to end (?:it|things)\b|swallowed (?:everythi"
        r"ng|all) "
        r"in the (?:medicine|bathroom) (?:cabinet|cupboard)|cut (?:my|his|her|their) (?:arms?|wrists?|legs?) (?:\w+"
        r" )?deep",
        r"(?:garage|car) (?:\w+ ){0,4}engine running|engine running (?:\w+ ){0,3}(?:garage|locked)|"
        r"(?:got|has|have) a rope (?:ready|here|with|in)|blades? (?:are )?ready|nobody (?:will|would) miss me|"
        r"this is my last (?:msg|message|text)|(?:text|messag)\w* (?:me )?goodbye|"
        r"cut (?:his|her|my|their) (?:own )?wrists?|slit\w* (?:his|her|my|their) wrists?|"
        r"(?:wants?|wanna|going) to die|(?:his|her|a|the|my) gun out|ending it (?:tonight|now|today|all)|"
        r"don'?t want to (?:be alive|live|wake up)|(?:hurt|harm|cut)\w* (?:my|him|her)self",
        r"too many (?:of )?(?:\w+ ){0,2}(?:pills|tablets|meds|painkillers|paracetamol) (?:on purpose|to end)|(?:got|"
        r"have) the (?:pills|"
        r"tablets|rope) (?:ready|lined up|here|in front)|(?:pills|tablets|meds) (?:\w+ ){0,2}in front of me|"
        r"standing on (?:the|"
        r"a) (?:bridge|ledge|roof|edge)",
        r"(?:taken?|took|swallowed) (?:1[5-9]|[2-9]\d)(?!\d) (?!min|hour|sec|step|day|week|month|year|mg|ml|breath|go|"
        r"attempt|tr|deep|iu|unit|puff|drop)\w+",
        r"self.?harm|overdos\w*|better off without me|hang (?:my|him|her)self|jump\w* off (?:the|a) "
        r"(?:bridge|building|roof|cliff)|end it (?:tonight|today|now)|don'?t want to be (?:here|around) any ?more",
        r"(?:taken?|took|swallowed) (?:a |the )?(?:whole |full |entire )?(?:packet|pack|box|bottle|lot|load|loads|lots|"
        r"handful|bunch)s? of (?:\w+ )?(?:pills|tablets|paracetamol|meds|medication|antidepressants|painkillers|"
        r"insulin|sleeping pills)",
        r"(?:taken?|took|swallowed|downed)(?:\W+\w+){0,6}?\W+(?:(?:1[5-9]|[2-9]\d)(?!\d)|all of|every one|"
        r"(?:a )?(?:load|lot|bunch|"
        r"handful)s?) (?:of )?(?:\w+ ){0,2}(?:pills|tablets|paracetamol|meds|antidepressants|painkillers|insulin)|"
        r"(?:pills|tablets) (?:all )?lined up|(?:took|taken|swallowed) all (?:of )?(?:my|his|her|their|the) "
        r"(?:sleeping (?:pills|tablets)|antidepressants|painkillers|paracetamol|insulin|opioids)",
        r"(?:about|around|like|maybe|over|nearly|almost) (?:1[5-9]|[2-9]\d)(?!\d) (?:\w+ )?(?:paracetamol|pills|"
        r"tablets|co-?codamol|ibuprofen|painkillers)|(?:saving|stockpil\w*|hoard\w*) (?:up )?(?:my |his |her )?(?:"
        r"\w+ )?"
        r"(?:pills|tablets|meds)|empty (?:blister )?(?:packs?|packets|bottles?) (?:\w+ ){0,3}(?:round|around|next to|"
        r"beside)|(?:written|wrote) (?:\w+ ){0,2}goodbye (?:letters?|notes?)|"
        r"don'?t want to be (?:here|around|alive) (?:by (?:the )?morning|tomorrow)|"
        r"(?:going|ready) to do it tonight|tonight (?:i'?m|im|i am) (?:going|gonna) to do it|"
        r"written (?:a |my )?(?:suicide |goodbye )?(?:note|letters?)(?:\W+\w+){0,5}?\W+(?:ready|goodbye|everyone|"
        r"tonight)|"
        r"(?:text|messag|call)\w* (?:me )?saying goodbye",
    ),
    "sudden severe headache": (
        rf"worst headache|{_SEVERE} (?:\w+ ){{0,3}}headache\b|thunderclap|"
        r"(?:headache|head (?:pain|ache)) (?:\w+ ){0,4}(?:in seconds|out of nowhere|like (?:being hit|a bang|an "
        r"explosion|explosion))|head (?:\w+ ){0,5}split open",
        rf"{_SEVERE} (?:\w+ ){{0,2}}pain (?:\w+ ){{0,5}}(?:head|skull)\b|(?:head|skull)\b(?:\W+\w+){{0,4}}\W+{_TEN}",
        r"(?:popped|burst|exploded|snapped|went bang) (?:\w+ ){0,2}(?:in|inside) (?:my|his|her|their) "
        r"(?:head|skull|brain)|"
        r"(?:grabbed|clutch\w*|holding) (?:the back of )?(?:his|her|my|their) head(?:\W+\w+){0,4}\W+(?:agony|"
        r"screaming|worst)|scream\w* and (?:grabbed|clutched|held) (?:the back of )?(?:his|her|my|their) head|"
        r"(?:a |felt a )pop in (?:my|his|her|their) head|"
        r"(?:most|worst) (?:\w+ )?pain (?:i'?ve|ive|i have|she'?s|he'?s|they'?ve) ever|"
        r"(?:inside|in) (?:my|his|her|their) (?:skull|head) like a (?:bang|explosion|gunshot|thunderclap)|headache "
        r"(?:\w+ ){0,2}so bad|"
        rf"head(?:\W+\w+){{0,6}}\W+(?:explode|exploding)|{_SEVERE} (?:\w+ ){{0,2}}head ?(?:pain|ache)",
    ),
    "allergic reaction": (
        r"anaphyla\w*|(?:throat|tongue|lips?|mouth) (?:\w+ ){0,3}(?:swell\w*|swollen|closing|tight\w*)",
        r"swollen (?:throat|tongue|lips?)|(?:face|eyes) (?:is |are )?swell\w* (?:up )?(?:and|after)|epi-?pen",
        r"(?:severe|serious|bad|major) allergic reaction|swollen shut|(?:tongue|lips|mouth) (?:\w+ ){0,3}(?:too big|"
        r"massive|"
        r"huge|blown up|ballooned)|tight in the throat|(?:face|lips|tongue|mouth)(?:\W+\w+){0,3}\W+(?:blew|blown|"
        r"ballooned|swelled) up",
    ),
    "sudden severe abdominal pain": (
        rf"{_SEVERE} (?:\w+ ){{0,4}}(?:pain|ache|cramps?) (?:\w+ ){{0,4}}(?:stomach|tummy|belly|abdom\w*|side|groin)",
        r"(?:stomach|tummy|belly|abdom\w*) (?:pain|ache) (?:\w+ ){0,3}(?:sudden|severe|agoni[sz]ing|excruciating)",
        r"(?:belly|stomach|tummy|abdomen) (?:is |feels )?(?:\w+ and )?(?:rock )?(?:hard|rigid)",
        r"(?:testic\w*|scrotum)(?:\W+\w+){0,5}\W+(?:sudden\w*|swollen|agony|severe)|"
        rf"{_SEVERE} (?:\w+ ){{0,3}}(?:testic\w*|scrotum)",
        r"(?:agoni[sz]ing|excruciating|unbearable) pain|doubled (?:over|up) (?:in|with) (?:\w+ )?(?:pain|agony)|"
        r"doubled over(?! laugh)|writhing|rolling (?:around )?(?:on the floor|in (?:pain|agony))",
        rf"(?:gut|stomach|tummy|belly|abdom\w*) (?:pain|ache) (?:is )?(?:a )?{_TEN}|"
        r"worst pain (?:\w+ ){0,3}(?:ever|felt)|"
        r"screaming (?:\w+ ){0,2}(?:with|in) (?:\w+ )?(?:pain|agony)|worst (?:\w+ )?(?:pain|ache)\b|"
        rf"{_SEVERE} (?:\w+ ){{0,3}}(?:stomach|tummy|belly|abdominal|gut) (?:pain|ache|cramps?)|"
        r"(?:stomach|tummy|belly|abdom\w*) (?:pain|ache) (?:is )?(?:\w+ )?(?:unbearable|worst)|screams? (?:if|when) "
        r"(?:he|she|i|they) moves?|vomit\w* (?:\w+ )?green|green vomit",
        r"sudden\w* got (?:way |much |a lot |really )?worse (?:\w+ ){0,3}(?:stomach|tummy|belly|abdomen)|"
        r"vomit\w* (?:\w+ ){0,4}(?:smells? like (?:poo|poop|faeces)|fa?ec\w*)|(?:swollen|bloated) (?:up )?like a ba"
        r"lloon|"
        r"(?:everywhere|swollen|distended|tight) and (?:rock )?(?:hard|rigid)|every (?:tiny |little |single )?"
        r"(?:movement|move|step) (?:is (?:agony|unbearable)|hurts)|hernia(?:\W+\w+){0,6}\W+(?:won'?t|wont|can'?t) "
        r"(?:go|push|pop) back",
    ),
    "severe burn": (
        r"(?:boiling|scalding) (?:water|oil|fat|liquid|tea|coffee|soup|milk|stock)|blister\w* and (?:\w+ )?(?:peeling|"
        r"coming (?:off|away))|hot (?:pan of )?(?:oil|fat)|scald\w*|"
        r"freshly (?:made|boiled) (?:tea|coffee)|live wire|electrocut\w*|lightning|house fire|smoke inhalation|"
        r"breathed in (?:\w+ ){0,3}smoke|burn\w* (?:\w+ ){0,4}bigger than (?:my|his|her|their) (?:hand|palm)|"
        r"burnt (?:\w+ ){0,2}(?:hands?|arms?|legs?|face|chest|back) badly|"
        r"badly burn\w*|chip pan|burns? (?:on|to) (?:his|her|my|their) face|(?:big|huge|"
        r"large) blisters (?:\w+ ){0,3}(?:face|neck|chest|arms?|legs?|all over|coming up)|"
        r"splash\w* with (?:\w+ ){0,2}(?:chemicals?|acid|bleach|cleaner|caustic\w*)",
        r"burn\w* (?:\w+ ){0,2}(?:in|by) (?:a )?fire|(?:severe|bad|big|large|deep|serious) burns?\b",
        r"burns? (?:cover\w*|all over)|skin (?:is )?(?:\w+ ){0,2}(?:charred|black|white and)|electric shock|"
        r"chemical burn",
        r"(?:skin|burn)\w* (?:\w+ ){0,6}leathery|(?:face|neck|chest) (?:\w+ ){0,2}(?:is |are |got |was |were )?"
        r"(?:badly )?burn(?:t|ed)|big blisters (?:are )?form\w*|(?:shock|electrocuted) (?:off|from) (?:the )?"
        r"(?:mains|socket|power)|charred|caught (?:in|by) (?:the )?(?:flames|fire)|"
        r"skin (?:\w+ ){0,5}(?:is |has )?(?:come|came|coming|peeled|peeling) off|(?:kettle|boiling|hot) water (?:\w"
        r"+ ){0,3}"
        r"(?:fall|fell|spill\w*|pour\w*|tipped) (?:on|over)|(?:big|huge|large) (?:bubbles|blisters) on (?:the |his "
        r"|her "
        r"|my )?skin|(?:white|charred|leathery) and (?:don'?t|doesn'?t|dont|do not) (?:even )?hurt|(?:all|badly) bl"
        r"istered|"
        r"(?:chemicals?|acid|bleach|(?:drain|oven) cleaner|caustic\w*) (?:\w+ ){0,3}(?:splash\w*|in (?:my|his|her|"
        r"their) eyes?)|singed|(?:nose|facial) hairs? (?:\w+ )?burn\w*",
    ),
    "poisoning": (
        r"(?:bottle|packet|box) of(?:\W+\w+){0,4}\W+(?:tablets|pills|meds) (?:\w+ ){0,2}open|(?:tablets|pills) missing|"
        r"(?:drunk|drank|swallowed|eaten|ate|chewed|consumed) (?:some |a |an |the |one of )?(?:\w+ ){0,2}"
        r"(?:bleach|detergent|"
        r"batter(?:y|ies)|magnets?|weedkiller|antifreeze|dishwasher (?:tablet|pod)|washing (?:capsule|pod|tablet)|"
        r"rat poison|poison\w*)",
    ),
    "near drowning": (
        r"face down in (?:the |a )?(?:\w+ )?(?:pool|water|bath|pond|sea)|nearly drown\w*|drowning(?! in)|"
        r"pulled (?:\w+ ){0,2}out of the (?:water|pool|sea|river|bath)",
    ),
    "dying": (r"\bdying\b|going to die",),
}
# A rash that passes the glass test reassures.
_RASH_FADES = (r"(?<!never )(?<!not )\b(?:fades|fade away|goes white|blanches|disappears) (?:completely |fully |away )?"
               r"(?:when|with|under)")
# Red flags that take two findings in one message: (name, first, second), or (name, first, second, unless)
# where a third finding reassures ("the rash fades with the glass test").
RED_FLAG_PAIRS: tuple[tuple[str, ...], ...] = (
    ("head injury with warning signs",
     r"(?:hit|banged|bumped|knocked|smacked|struck|hurt) (?:\w+ ){0,5}head|head injury|fell|fallen|crash|accident|"
     r"(?:knee|kick|blow|knock|punch|ball|bat|elbow|tackle)\w* (?:\w+ ){0,3}(?:to|on|in) the head|rolled off|"
     r"(?:hit|struck) by (?:a |the )?(?:swing|car|ball|bat|door|branch|brick)|came off (?:his|her|my|their|the) "
     r"(?:bike|horse|motorbike|scooter)|helmet (?:\w+ )?(?:cracked|split)",
     r"vomit\w*|\bsick\b|confus\w*|drows\w*|sleepy|(?:not|isn'?t) making sense|(?:can'?t|cannot) stand up|fluid|"
     r"blood (?:\w+ ){0,2}(?:from|out of) "
     r"(?:(?:his|her|my|their|the) )?ears?|"
     r"out cold|can'?t remember|mumbl\w*|double vision|vision'?s? (?:gone )?doubled?|seeing double|can'?t think|"
     r"(?:watery|clear) (?:\w+ ){0,2}(?:dripping|coming|from)|throw\w* up|threw up|falling asleep|nonsense|"
     r"can'?t keep (?:her|his|their|my) eyes open|pupils?|forget\w*|feel\w* (?:weird|strange|funny)|"
     r"(?:arms|legs|hands|feet) (?:\w+ ){0,2}tingl\w*"),
    ("unwell baby or child",
     r"baby|newborn|infant|toddler|\b\d+ (?:day|week|month)s? old|\b(?:[0-9]|1[0-5]) (?:years?|yrs?) old|"
     r"\bson\b|daughter|"
     r"child|\bkid\b|"
     r"little (?:girl|boy|one)",
     r"limp|floppy|not respond\w*|isn'?t respond\w*|unresponsive|\bblue\b|hard to wake|won'?t wake|"
     r"high.?pitched (?:\w+ )?cry|soft spot (?:is )?bulging|bulging|fontanel\w*|not feeding|"
     r"breathing (?:\w+ ){0,2}(?:funny|fast|strange|noisily)|barely moving|"
     r"paus\w* between breaths|stops breathing|sunken|(?:no|hasn'?t had a|without a) wet nappy|"
     r"not reacting|grunt\w*|blotchy|mottled|(?:hands|feet) (?:and (?:hands|feet) )?(?:are )?(?:freezing|icy|ice)",
     _RASH_FADES),
    ("meningitis signs",
     r"rash|spots|(?:red|purple|dark) (?:\w+ )?dots|dots on|blotch\w*|bruise.?like|stiff neck|"
     r"neck (?:\w+ ){0,3}(?:stiff|hurts to bend|hurts when)|"
     r"(?:can'?t|cannot|won'?t) (?:\w+ ){0,2}(?:bend|touch|put|move) (?:\w+ ){0,2}(?:chin|head forward)",
     r"(?:doesn'?t|does not|don'?t|dont|won'?t|didn'?t|not) (?:\w+ )?(?:fad(?:e|es|ing)|blanch|go away (?:under|"
     r"when|with))|ice cold|"
     r"non.?blanching|fever|temperature|\btemp\b|burning (?:up|hot)|(?:bright )?lights? hurts?|can'?t (?:look at|"
     r"stand) (?:the )?light|purple|stay when",
     _RASH_FADES),
    ("sepsis signs",
     r"sepsis|septic|mottled|clammy|infect\w*|\buti\b|cellulitis|shiver\w*|pneumonia|cold to (?:the )?touch|burning up|"
     r"never felt (?:this|so) (?:ill|unwell|poorly)|high (?:fever|temp\w*)|feverish|gave birth|had a baby|"
     r"surgery|operation|hot (?:then|and) cold|(?:wound|cut) (?:\w+ ){0,3}"
     r"(?:red|oozing|pus)|temperature (?:is |of )?(?:3[89]|4[01])",
     r"sepsis|septic|confus\w*|(?:fast|rapid) breathing|breathing (?:\w+ ){0,2}(?:fast|rapid)|(?:hasn'?t|haven'?t|"
     r"not|no) "
     r"(?:passed|peed|weed|wee'?d|had a wee) "
     r"(?:urine|water)?|(?:hasn'?t|hasnt|haven'?t|havent|not) (?:been|gone) (?:to )?(?:the )?(?:toilet|loo)|muddled|"
     r"rigou?rs|heart (?:is )?pounding|not making sense|nonsense|(?:doesn'?t|does not|didn'?t) recogni[sz]e|blotchy|"
     r"heart rate (?:is |of )?1[2-9]\d|sudden\w* (?:\w+ ){0,2}(?:sleepy|drowsy)|patchy (?:and )?(?:purple|blue)|"
     r"heart (?:is )?racing|racing heart|red (?:streaks?|lines?)|dizzy when (?:i|he|she|they) stand|(?:gone|"
     r"turned) (?:dark )?purple|sunken"),
    ("sepsis signs", r"chemo\w*", r"\btemp(?:erature)?\b|fever\w*|\b(?:3[89]|40)\.\d\b|shaking violently|rigou?rs"),
    ("sudden severe headache", r"\bhead\b|headache",
     r"worst (?:i'?ve|ive|i have|one) ever|like never before|out of nowhere|all of a sudden|out of the blue|"
     r"in (?:\w+ )?(?:seconds|an instant)|flick\w* a switch|like a switch|(?:zero|0) to (?:ten|10)|instant\w*|"
     r"like a hammer|never had anything like|"
     r"hit (?:\w+ ){0,6}with a (?:bat|hammer|brick)|massive pain|very strong pain|seeing double|double vision"),
    ("unwell baby or child", r"newborn|\b\d+ (?:day|week)s? old|\b(?:[12]|one|two) months? old",
     r"\btemp(?:erature)?\b|fever\w*|burning up"),
    ("heavy bleeding", r"(?:nose)?bleed\w*|blood (?:\w+ ){0,2}(?:coming|pouring|everywhere|from|out of)|"
     r"(?:loads|lots|a lot) of blood|^\W*lot of blood", r"dizzy|faint\w*|light.?headed|(?:loads|lots) of it"),
    ("allergic reaction", r"allerg\w*|hives|stung|first (?:taste|try|time (?:eating|trying))|\bsting\b|"
                          r"antibiotic|peanuts?|\bnuts?\b|injection|itchy all over",
     r"wheez\w*|faint\w*|light.?headed|tongue (?:\w+ ){0,2}(?:thick|swollen)|can'?t swallow|(?:face|"
     r"lips?|tongue|throat|mouth)(?:\W+\w+){0,3}\W+"
     r"(?:swell\w*|swollen|puffy|tight)|throat (?:\w+ ){0,2}(?:tight\w*|closing|swell\w*)"),
    ("severe burn", r"burn\w*", r"bigger than (?:my|his|her|their) (?:hand|palm)|blister\w* badly"),
    ("sudden severe abdominal pain", r"(?:stomach|tummy|belly|abdom\w*) (?:pain|ache)|(?:pain|ache) in "
     r"(?:my|his|her|their|the) (?:stomach|tummy|belly|abdomen)|(?:kicked|punched|hit|stabbed) "
     r"(?:\w+ ){0,3}(?:stomach|tummy|belly|abdomen)",
     r"white as a sheet|pulse (?:is )?racing|clammy|(?:gone|going|went) (?:grey|gray|white)"),
    ("chest pain", r"\bchest\b", r"\bclammy\b|\bgr[ae]y\b|drenched in sweat|sweating"),
    ("chest pain", rf"{_CHEST}(?:\W+\w+){{0,3}}\W+burn\w*",
     r"breathless|pale|grey|gray|clammy|sweat\w*|\barm\b|\bjaw\b"),
)

# Phrases in which a red flag's words mean something else ("get fit", "a fit note", "my front crawl stroke",
# "cut myself shaving", "bleeding money"): a finding that overlaps one of its flag's phrases does not count.
_OTHER_SENSES: dict[str, str] = {
    "seizure": (
        r"(?:get|getting|keep|keeping|stay|staying|so|very|more|less|super|quite|really|feel|feeling|be|am|i'?m) fit\b|"
        r"fit (?:note|and (?:well|healthy|strong)|for (?:work|duty|purpose)|to (?:work|drive|fly|travel|return)|"
        r"like|perfectly|nicely|together|the (?:bill|description))|fits? (?:me|him|her|them|you) (?:well|perfectly|"
        r"fine|better|now)|(?:doesn'?t|don'?t|won'?t|didn'?t|will|would|should|to) fit\b|keep.?fit|fitting room|"
        r"(?:seizure|fit|epilepsy)[- ]free|(?:hissy|laughing|coughing|sneezing|giggling) fits?|"
        r"fits? of (?:laughter|giggles|rage|anger|coughing|sneezing|jealousy)|seized up|engine seized|(?:as )?fit as a "
        r"fiddle|fits? (?:the (?:profile|bill|description|criteria|brief)|into|in with|right in|perfectly)"),
    "stroke signs": (
        r"(?:swim\w*|front crawl|crawl|breast|back|butterfly|paddle|golf|tennis|rowing|brush|pen|key) ?strokes?\b|"
        r"strokes? (?:rate|count|length|technique|power|distance|per minute)|"
        r"stroke (?:of (?:luck|genius|midnight|the pen)|(?:the|my|his|her|our) (?:cat|dog|hair|beard|ego))|"
        r"strok(?:e|ed|ing) (?:the|my|his|her|our) (?:cat|dog|puppy|kitten|hair|beard)|"
        r"(?:will|gonna|going to) have a stroke (?:when|if|at|over)|dead legs?\b|"
        r"(?:nobody|no one|never|didn'?t) (?:told|tell) (?:me|him|her|us)(?:\W+\w+){0,5}|"
        r"(?:dead|heavy|weak|numb)(?:\W+\w+){0,4}\W+(?:after|from) (?:\w+ ){0,2}(?:gym|leg day|workout|run\w*|"
        r"training|squats|hike|walk\w*|cycl\w*|football|match|sitting on|sleeping on|lying on)"),
    "loss of consciousness": (
        r"collapsed (?:on|onto|into) (?:the |my )?(?:sofa|couch|bed)|passed out (?:of|leaflets|flyers|invitations)|"
        r"knocked out of|(?:tent|deal|roof|wall|shelf|bridge|talks|business|plan|cake|souffle)s? (?:has |had )?"
        r"collapsed|(?:unconscious|knocked out|out cold|put under|put to sleep)\w* (?:\w+ ){0,5}?(?:under|from|with|"
        r"during|for) (?:the |an? |general )?(?:an(?:a)?esthe\w*|sedation|general|operation|surgery|procedure)"),
    "trouble breathing": (
        r"chok(?:ed|ing) up|chok\w* back|chok\w* the life out of|choking hazard|choke ?(?:hold|point)|"
        r"(?:not|isn'?t|no) (?:\w+ )?breathless|suffocating (?:heat|atmosphere|relationship|in (?:this|the) heat)|g"
        r"asping for a (?:cuppa|brew|drink|pint|"
        r"coffee|tea|smoke|fag)|"
        r"br[ea]+th\w* (?:\w+ )?(?:through|out of) (?:my|his|her|their|one|the|a) (?:nose|nostril)|"
        r"(?:blocked|stuffy|bunged up|congested) (?:\w+ )?nose\w*(?:\W+\w+){0,5}?\W+(?:can'?t|cannot|unable to|"
        r"struggl\w* to|hard to) br[ea]+th\w*|nose (?:is |was |feels |so )?(?:\w+ )?(?:blocked|stuffy|bunged up|"
        r"congested)(?:\W+\w+){0,5}?\W+(?:can'?t|cannot|unable to|struggl\w* to|hard to) br[ea]+th\w*|"
        r"blu(?:e|ish) (?:from|after) (?:the |a |an )?(?:ice lolly|lolly|slush\w*|blueberr\w*|sweets?|paint|ink|dye|"
        r"pen|felt tip|marker|food colouring)"),
    "heavy bleeding": (
        r"bleed\w* (?:money|cash|me dry|us dry|them dry|red ink)|bleeding (?:heart|edge|obvious|hell|nuisance|"
        r"idiot|thing)|blood (?:tests?|work|results?|pressure|sugars?|donations?|donors?|bank|count|type)"),
    "thoughts of self-harm": (
        r"(?:cut|nick\w*|hurt|burn\w*|scratch\w*) (?:my|him|her|them)sel(?:f|ves) (?:shaving|cooking|chopping|"
        r"gardening|on (?:a|the)|with (?:a|the) (?:knife|razor|scissors|saw) (?:while|when)|while|when|by accident|"
        r"accidentally|at work|playing|doing|slicing|cutting|opening)|accidentally (?:cut|hurt|burn\w*)|"
        r"overdos\w* (?:of|on) (?:vitamin\w*|sugar|caffeine|coffee|netflix|tv|chocolate|sweets)|"
        r"kill\w* (?:my|him|her)self (?:laughing|at the gym|with work|working)"),
    "sudden severe headache": (
        r"explod\w* (?:with|from) (?:all |so much |too much )?(?:these|this|the) (?!pain|ache|pressure|agony)\w+|"
        r"explod\w* (?:with|from) (?:information|info|forms|ideas|questions|stress|work|paperwork|thoughts)"),
    "allergic reaction": (
        r"(?<!having )(?<!into )anaphyla\w* (?:to|from) (?:\w+ ){0,2}(?:stings?|nuts?|peanuts?|penicillin|shellfish|"
        r"latex|eggs?|bees?|wasps?|antibiotics?)|"
        r"(?:lips?|face|mouth|cheek) (?:\w+ ){0,3}(?:swollen|swell\w*|puffy|tight)(?:\W+\w+){0,4}\W+(?:filler|"
        r"botox|dentist|dental|numbing|anaesthetic|injection at the)"),
    "sudden severe abdominal pain": r"pain in the (?:neck|arse|ass|butt|backside)",
    "chest pain": (r"(?:ache|pain|hurts?|sore)\w* (?:\w+ ){0,3}(?:only )?when (?:i|he|she|you|they) (?:cough|"
                   r"sneeze|laugh|press|push|touch|"
                   r"move|twist|"
                   r"lie)"),
    "severe burn": (
        r"scald\w* (?:my|his|her) (?:tongue|lip|mouth|finger|thumb|fingertip)|(?:tongue|lip|finger|thumb|"
        r"fingertip)s? (?:\w+ ){0,3}(?:scald\w*|boiling|hot (?:oil|fat)|tea|coffee)|(?:small|little|tiny|static|"
        r"mild) (?:electric )?shock|lightning (?:fast|quick|speed)|(?:as|like) lightning"),
    "dying": (
        r"dying (?:my|his|her|their|the) (?:hair|beard|eyebrows|roots|clothes|jeans|shirt)|(?:plant|battery|"
        r"flowers?|tree|car|laptop|light|bulb|conversation|trend|fashion|language)s? (?:is |are )?dying|"
        r"dying (?:art|breed|trade|language|embers|wish|words)|dying (?:for|to|of (?:boredom|laughter|embarrassment|"
        r"hunger|thirst|curiosity|cringe|shame))|(?:i'?m|im) dying (?:here|lol|haha)|going to die (?:of|from) "
        r"(?:embarrassment|boredom|laughter|shame|cringe|hunger)"),
    "near drowning": (
        r"drown\w* (?:in|under) (?:work|paperwork|emails?|debt|bills|laundry|homework|admin|tears|sorrows|"
        r"assignments|deadlines)"),
    "head injury with warning signs": (
        r"fell (?:asleep|in love|behind|for|out with|apart|through|pregnant|ill)|fallen (?:asleep|in love|behind|"
        r"out|pregnant|ill)|crash(?:ed)? (?:diet|course|out|on the sofa)|(?:laptop|computer|pc|app|system|phone|"
        r"website|server)s? (?:\w+ )?crash\w*|sick (?:of|note|leave|day|pay)|off sick|(?:call|calling|called) in "
        r"sick|sick and tired|sick to death"),
    "unwell baby or child": (
        r"blue (?:eyes|kit|shirt|top|dress|jumper|coat|hat|team|toy|crayon|paint|room|car|bike)|(?:feeling|felt|"
        r"feels) blue|baby blue|bulging (?:disc|muscles|bag|pockets?)|floppy (?:hair|ears|hat)|(?:a|with a|slight) "
        r"limp|limp (?:when|after|since|on (?:his|her|my) )|grunt\w* (?:when|while|as) (?:\w+ ){0,2}(?:poo\w*|"
        r"push\w*|strain\w*|feed\w*|sleep\w*)"),
}

# A cue before the finding, in the same comma-delimited part, that cancels it.
_NEGATED = re.compile(
    r"\b(?:no|not|never|nothing|none|nobody|no one|without|denies|deny|don'?t|do not|haven'?t|hasn'?t|hadn'?t|"
    r"didn'?t|doesn'?t|isn'?t|aren'?t|wasn'?t|free of|no sign of|nor)\b(?:\W+(?!(?:and|now|then|so|plus|also|becaus"
    r"e)\b)\w+){0,4}(?:\W+(?:or|nor)(?:\W+\w+){0,2})?\W*$",
    re.IGNORECASE)
# A cue before the finding that makes it a worry about the future, a figure of speech ("you'll give me a heart
# attack") or a hypothetical ("if ...", "say someone ...", but not "as if"), not a report.
_IMAGINED = re.compile(r"(?:\b(?:might (?:have|get) (?:a|an)|worr(?:y|ied) about|(?:give|giving|gave) (?:me|us|him|"
                       r"her)|"
                       r"nearly (?:had|gave)|almost (?:had|gave)|would (?:have|get|go))\b"
                       r"(?:\W+(?!(?:and|now|then|so|but)\b)\w+){0,4}\W*$)|"
                       r"(?<!know )(?<!sure )(?<!tell )(?<!check )(?<!see )(?<!as )(?<!as though )\bif\b|"
                       r"(?<!to )\bsay (?:someone|somebody|my|a|he|she|they)\b|"
                       r"\b(?:terrified|scared|afraid|frightened|petrified|fear|phobia) of\b", re.IGNORECASE)
# A cue just before the finding that calls it mild ("bit of chest tightness", "slight wheeze") ...
_SOFTENED = re.compile(r"\b(?:(?:a )?(?:little |tiny |wee )?bit of|slight|mild|minor)\W+(?:\w+\W+)?$", re.IGNORECASE)
# ... or just after it ("my chest hurts a bit").
_SOFTENED_AFTER = re.compile(r"^\W*(?:a (?:little |tiny |wee )?bit|a little|slightly|mildly)\b", re.IGNORECASE)
# A negation inside the finding, after its first word, that denies it ("my chest doesn't hurt"), not one the
# finding is made of ("inhaler isn't working", "won't stop", "doesn't fade").
_NEGATION_WORD = re.compile(
    r"\b(?:not|no|never|doesn'?t|does not|isn'?t|aren'?t|wasn'?t|didn'?t|don'?t)\b(?! (?:\w+ )?(?:working|helping|s"
    r"top\w*|"
    r"fade|blanch|go away|clot|work\w*|respond\w*|wak\w*|breath\w*|moving|reacting|answering|recogni\w*|know|"
    r"understand|grip|passed|peed|help\w*))", re.IGNORECASE)
# A part that dates what it says in the past.
_PAST = re.compile(
    r"\b(?:(?:years?|months?|decades?) (?:ago|back)|last (?:year|month|summer|winter|spring|autumn|christmas)|"
    r"history of|(?:past|medical) history|\b(?:19|20)\d\d|when i was|"
    r"(?:in|last) (?:the )?(?:spring|summer|autumn|winter|fall|january|february|march|april|june|july|august|"
    r"september|october|november|december|(?:mon|tues|wednes|thurs|fri|satur|sun)day)|"
    r"used to|in (?:my|his|her|their) \d0s|once as|once (?:when|before|in|at|during)|grew out of|died (?:of|from)|"
    r"passed away|when (?:he|she|they|we) (?:was|were)|as a (?:teenager|teen|child|kid|baby|toddler|boy|girl|student)|"
    r"in (?:my|his|her) (?:teens|twenties|thirties|youth|childhood)|previous(?:ly)?|in the past|"
    r"(?:diagnosed|treated) (?:with|for)|carr(?:y|ies)|well controlled)\b",
    re.IGNORECASE)
# A part that says what someone had last week or weeks ago is in the past too ("my neighbour had a stroke last
# week, I'm worried it could happen to me" raised emergency advice, found chatting), unless it says what is
# happening since then or now ("had surgery last week and now her stomach is swollen", "after my operation last
# week I've got a fever"); "I messaged last week about his ear infection" still counts the infection.
_RECENT_PAST = re.compile(r"\b(?:had|suffered|was|were)\b.*\b(?:last week|(?:a|one|two|three|few|couple of|\d+) weeks? "
                          r"ago)\b", re.IGNORECASE)
_SINCE_THEN = re.compile(r"\b(?:now|today|tonight|this (?:morning|afternoon|evening)|since|after|just|still|again|"
                         r"another|currently|is|are|has|have|can'?t|cannot|won'?t|ive got|getting)\b", re.IGNORECASE)


# A part that tells it happened again now is no history ("i had a seizure last month and another one just now",
# found chatting; "had a stroke in 2019 and now his face is drooping again").
_AGAIN_NOW = re.compile(r"\b(?:another (?:one )?(?:just now|right now|now|today|tonight|this (?:morning|afternoon|"
                        r"evening))|just had another|(?:now|today|tonight|this morning)\b.{0,40}\bagain)\b",
                        re.IGNORECASE)


def _in_the_past(text: str) -> bool:
    """Whether a part dates what it says in the past (:data:`_PAST`, or :data:`_RECENT_PAST` with nothing since),
    and does not tell it is happening again now (:data:`_AGAIN_NOW`)."""
    dated = _PAST.search(text) or (_RECENT_PAST.search(text) and not _SINCE_THEN.search(text))
    return bool(dated) and not _AGAIN_NOW.search(text)


# A part that asks about a word, a risk or an image, or imagines a case, reports nothing: one with these cues
# anywhere, ...
_ASKING = re.compile(
    r"^\W*(?:does|do|is|are|can|could|should|would)\s+(?!(?:u|you|someone|anyone|somebody) (?:please )?help)"
    r"(?:it|this|that|these|those|there|i|you|u|he|she|they|we|my|your|his|her|the|a|an|someone|anyone|people)\b|"
    r"^\W*(?:what'?s|whats)\b(?! (?:happening|going on|wrong))|"
    r"\b(?:signs? of(?! breath)|symptoms of|risk of|chance of|what to do if|difference between|(?<!as )if (?:she|he"
    r"|i|you|"
    r"someone|somebody|they|my \w+|a \w+) (?:ever|were|was|is|are|had|has|have|gets?|starts?)|suppos(?:e|ing)|"
    r"imagin(?:e|ing)|"
    r"in case|in the (?:event|case) of|first aid|scan|image|x-?ray|\bct\b|\bmri\b)\b", re.IGNORECASE)
# ... and a sentence that opens with a question word ("can anxiety cause chest tightness"; not "can you help").
_QUESTION = re.compile(r"^\W*(?:what|how|why|which|any|tell me|does|do|is|are|can|could|should|would|"
                       r"(?:when|where) (?:do|does|should|can|could|would|is|are))\b(?!')"
                       r"(?! (?:u|you|someone|anyone|somebody) (?:please )?help)", re.IGNORECASE)
_FIGURATIVE = re.compile(
    r"\b(?:lol|haha|lmao|jk|dying to|battery (?:is )?(?:dying|dead|low)|phone|wifi|laptop|plants?|paperwork|queue|"
    r"film|movie|laugh(?:ed|ing) (?:so hard|till|until|my head off)|"
    r"onto the sofa|(?:leg|foot|arm|hand) (?:\w+ )?(?:fell|falls|is) asleep|spreadsheet|traffic|emails?|match|game|"
    r"so tense|brew|cuppa|weather|team|final|deadlines?|boss|price|bill|sneaking|up the wall|"
    r"driving me (?:mad|crazy|nuts)|dying of (?:boredom|laughter|embarrassment|hunger|thirst)|suffocating me|"
    r"interview|exams?|presentation|revision|homework|studying|so funny|hilarious|giggl\w*|i'?m melting|"
    r"(?:heat|weather|kids|work|job|commute|boss) is killing me)\b|😂", re.IGNORECASE)
# A part that opens with a negation denies what follows ("no pain in my chest", "haven't fainted").
_DENIES = re.compile(r"^\W*(?:(?:i|i'?m|he|he'?s|she|she'?s|they|we|it|it'?s)\s+)?(?:(?:have|has|had)\s+)?"
                     r"(?:no|not|never|without|none|nothing|denies|haven'?t|hasn'?t|didn'?t|don'?t|doesn'?t|isn'?t|"
                     r"wasn'?t|aren'?t|do not|did not|have not|has not)\b", re.IGNORECASE)
# A part about the future ("one day I'll have a stroke") reports nothing yet, for the patterns too ...
_FUTURE_WORDS = r"(?:might|may|could) (?:\w+ )?(?:fall|have|get|happen)|one day|in (?:the )?future"
_FUTURE = re.compile(rf"\b(?:{_FUTURE_WORDS})\b", re.IGNORECASE)
# ... and, for the classifier, neither does one that worries ("I worry she might fall"); the patterns still read
# "I'm worried he's having a stroke" as a report.
_WORRY = re.compile(rf"\b(?:{_FUTURE_WORDS}|worr(?:y|ied) (?:about|that|she|he|they|i))\b", re.IGNORECASE)
# A cue that says what came before it is over ("choked, but coughed it up", "it's fine now"); a finding
# after it ("I'm ok now but my husband is unconscious") still counts.
_RESOLVED = re.compile(r"\b(?:(?:fine|ok|okay|alright|better) now|coughed it (?:straight )?up|slept on it|"
                       r"(?<!where )it came out|it passed|(?:sent|discharged) (?:\w+ )?home|been fine since|"
                       r"back to normal|(?:all|came back|were|was) (?:normal|clear)|"
                       r"since then (?:\w+ ){0,2}(?:fine|ok|okay|well|"
                       r"better)|pinked up|(?:has|have|'s|'ve) been (?:totally |completely |perfectly )?fine)\b",
                       re.IGNORECASE)
# A message that calls itself mild, usual or slow ("it's the usual, paracetamol helps"; not "it hasn't helped")
# is not an emergency in other words: the classifier is not asked about it.
_MILD = re.compile(r"\b(?:usual|normal for (?:me|him|her)|mild(?:ly)?|slight(?:ly)?|bit of a|slowly|gradually|"
                   r"comes and goes|on and off|for (?:years|months|ages)|(?<!n't )(?<!not )(?<!nothing )(?:helps|"
                   r"helped)|"
                   r"settled|better now|breathing (?:fine|normally|normal|ok)|(?:speech|talking) (?:is )?(?:fine|no"
                   r"rmal)|"
                   r"fine in (?:him|her|my|them)sel(?:f|ves)|"
                   r"probably (?:nothing|just|need)|just (?:tired|a cold|a bit|a bug|shivering|cold|a graze|a bruise|"
                   r"a (?:red )?bump|sore|stiff|achy|a scratch|a cough|a sniffle|anxious|stressed|hungover))\b",
                   re.IGNORECASE)
# A message that lists this many denials ("no bleeding, no pain, just ...") goes through the warning signs it
# does not have: the classifier is not asked about it (the patterns still read it).
_DENIALS_LISTED = 2
_SENTENCE = re.compile(r"[.;!?]+")
_CLAUSE = re.compile(r"\bbut\b|,", re.IGNORECASE)

# Each finding starts at a word: "send it now" holds no "end it now" (found chatting: it got emergency advice at
# the hospital step's "send now?").
_SINGLE = {name: re.compile(r"\b(?:" + "|".join(patterns) + ")", re.IGNORECASE) for name, patterns in RED_FLAGS.items()}
_NEVER = re.compile(r"(?!)")
_SENSES = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in _OTHER_SENSES.items()}
# How many words either side of a finding a figurative cue ("my phone battery is dying") is looked for.
_FIGURATIVE_REACH = 8
_PAIRS = [(name, [re.compile(rf"\b(?:{finding})", re.IGNORECASE) for finding in findings[:2]],
           re.compile(findings[2], re.IGNORECASE) if len(findings) > 2 else _NEVER)
          for name, *findings in RED_FLAG_PAIRS]


@dataclass(frozen=True)
class _Part:
    """A comma- or "but"-delimited piece of one sentence; ``opens`` when it starts the sentence, ``in_question``
    when the sentence ends with "?", ``start`` its offset in the message, ``resolved`` the offset of the
    message's last "it's over" cue (-1: none)."""

    text: str
    opens: bool
    in_question: bool = False
    start: int = 0
    resolved: int = -1

    def asks(self) -> bool:
        """Whether the part asks about something rather than reporting it: it has an asking cue, or opens with a
        question word and starts the sentence or is in one that ends with "?"."""
        return bool(_ASKING.search(self.text)
                    or ((self.opens or self.in_question) and _QUESTION.search(self.text)))

    def reports_something(self) -> bool:
        """Whether the part could report something happening now."""
        return not (self.asks() or _in_the_past(self.text)
                    or any(cue.search(self.text) for cue in (_DENIES, _FIGURATIVE, _WORRY)))

    def reports(self, match: re.Match[str], flag: str) -> bool:
        """Whether ``match``, a finding of red flag ``flag`` in this part, is reported now."""
        before, after = self.text[: match.start()], self.text[match.end():]
        inside = [*match.group(0).split()[1:], *after.split()[:1]]
        return not (self.start + match.start() < self.resolved or _NEGATED.search(before) or _SOFTENED.search(before)
                    or _SOFTENED_AFTER.search(after)
                    or _IMAGINED.search(before) or _NEGATION_WORD.search(" ".join(inside))
                    or _in_the_past(self.text) or self.asks() or self._figurative_near(match)
                    or _FUTURE.search(self.text) or self._other_sense(match, flag))

    def _figurative_near(self, match: re.Match[str]) -> bool:
        """Whether a figurative cue lies within ``_FIGURATIVE_REACH`` words of the finding, outside it ("she
        can't hold the phone" is a finding, not a cue)."""
        before = self.text[: match.start()].split()[-_FIGURATIVE_REACH:]
        after = self.text[match.end():].split()[:_FIGURATIVE_REACH]
        return bool(_FIGURATIVE.search(" ".join(before)) or _FIGURATIVE.search(" ".join(after)))

    def _other_sense(self, match: re.Match[str], flag: str) -> bool:
        """Whether the finding overlaps a phrase in which ``flag``'s words mean something else."""
        return any(sense.start() < match.end() and match.start() < sense.end()
                   for sense in _SENSES.get(flag, _NEVER).finditer(self.text))


def _pieces(text: str, separator: re.Pattern[str], offset: int) -> list[tuple[str, int]]:
    """``text`` split at ``separator``: each piece with its offset (``offset`` is ``text``'s own)."""
    pieces, start = [], 0
    for match in separator.finditer(text):
        pieces.append((text[start:match.start()], offset + start))
        start = match.end()
    return [*pieces, (text[start:], offset + start)]


def _parts(text: str) -> list[_Part]:
    text = text.replace("\u2019", "'")
    resolved = max((match.start() for match in _RESOLVED.finditer(text)), default=-1)
    parts = []
    for sentence, offset in _pieces(text, _SENTENCE, 0):
        end = _SENTENCE.match(text, offset + len(sentence))
        in_question = bool(end and "?" in end.group(0))
        pieces = [(piece, start) for piece, start in _pieces(sentence, _CLAUSE, offset) if piece.strip()]
        parts += [_Part(piece, index == 0, in_question, start, resolved) for index, (piece, start) in enumerate(pieces)]
    return parts


def reported_text(text: str) -> str:
    """The parts of ``text`` that could report something happening now, joined: those that do not deny, date
    in the past, ask about, imagine, worry about the future or joke, less the phrases in which a red flag's
    words mean something else; "" when none is left or when the message calls itself mild, usual or slow, or
    lists denials; ``text`` itself when every part is kept and no such phrase is in it. The learned classifier
    (``bot.red_flag_classifier``) names no words, so it reads only this text."""
    if not text or _MILD.search(text):
        return ""
    parts = _parts(text)
    if sum(bool(_DENIES.search(part.text)) for part in parts) >= _DENIALS_LISTED:
        return ""
    kept = [part.text.strip() for part in parts if part.reports_something()]
    return _without_other_senses(text if len(kept) == len(parts) else " ".join(kept))


def _without_other_senses(text: str) -> str:
    """``text`` without the phrases in which a red flag's words mean something else ("fit as a fiddle"), so
    that the classifier does not read them either."""
    for sense in _SENSES.values():
        text, found = sense.subn(" ", text)
        if found:
            text = " ".join(text.split())
    return text


def red_flag(text: str) -> str | None:
    """The red flag ``text`` reports now, or None (absent, negated, past, asked about, imagined, figurative or
    over)."""
    if not text:
        return None
    parts = _parts(text)
    for part in parts:
        for name, pattern in _SINGLE.items():
            if any(part.reports(match, name) for match in pattern.finditer(part.text)):
                return name
    for name, findings, unless in _PAIRS:
        if not unless.search(text) and all(any(part.reports(match, name) for part in parts
                                               for match in pattern.finditer(part.text)) for pattern in findings):
            return name
    return None
