"""Version 1 of the demo chain's consent documents, in Danish, Norwegian Bokmål and English.
A chain's manager writes their own in the admin; these show what good ones say."""

DOCUMENTS = {
    ("terms", "en"): (
        "Membership terms",
        """\
1. Your membership gives you access to the centres of the chain during their opening hours.
2. You get in with face scan, if you have chosen it, or with your member number and PIN. The PIN always works.
3. Your membership fee is paid monthly in advance. You can end the membership with one month's notice.
4. Follow the staff's instructions and treat other members and the equipment with care.
5. We use your data to run your membership, as described under "My data" in the member pages.""",
    ),
    ("terms", "da"): (
        "Medlemsbetingelser",
        """\
1. Dit medlemskab giver adgang til kædens centre i deres åbningstider.
2. Du kommer ind med ansigtsscanning, hvis du har valgt det, eller med dit medlemsnummer og din pinkode. Pinkoden virker altid.
3. Kontingentet betales månedligt forud. Du kan opsige medlemskabet med en måneds varsel.
4. Følg personalets anvisninger, og tag hensyn til andre medlemmer og udstyret.
5. Vi bruger dine oplysninger til at administrere dit medlemskab, som beskrevet under "Mine data" på medlemssiderne.""",
    ),
    ("terms", "nb"): (
        "Medlemsvilkår",
        """\
1. Medlemskapet gir deg tilgang til kjedens sentre i åpningstiden.
2. Du kommer inn med ansiktsskanning, hvis du har valgt det, eller med medlemsnummer og PIN-kode. PIN-koden virker alltid.
3. Medlemsavgiften betales månedlig på forskudd. Du kan si opp medlemskapet med én måneds varsel.
4. Følg de ansattes anvisninger, og vis hensyn til andre medlemmer og utstyret.
5. Vi bruker opplysningene dine til å administrere medlemskapet, slik det er beskrevet under "Mine data" på medlemssidene.""",
    ),
    ("biometric", "en"): (
        "Consent to face scan at the door",
        """\
I agree that the fitness chain may recognise me by my face when I enter its centres.

From a photo of my face, a face template is computed: a list of numbers that describes my face and is used only to compare with the camera picture at the door. The template is biometric data. It is stored encrypted and is never used for anything else or given to anyone else.

Face scan is my free choice. I can always use my member number and PIN at every door instead, and saying no has no consequences for my membership.

I can withdraw this consent at any time with one click in the member pages. My face template and any stored photo of me are then erased at once. Withdrawing does not affect the lawfulness of the use before it.

Legal basis: my explicit consent, GDPR Article 9(2)(a).""",
    ),
    ("biometric", "da"): (
        "Samtykke til ansigtsscanning ved døren",
        """\
Jeg giver samtykke til, at fitnesskæden må genkende mig på mit ansigt, når jeg går ind i dens centre.

Ud fra et foto af mit ansigt beregnes en ansigtsskabelon: en række tal, der beskriver mit ansigt, og som kun bruges til at sammenligne med kamerabilledet ved døren. Skabelonen er biometriske data. Den opbevares krypteret og bruges aldrig til andet eller gives videre til andre.

Ansigtsscanning er mit frie valg. Jeg kan altid bruge mit medlemsnummer og min pinkode ved alle døre i stedet, og et nej får ingen betydning for mit medlemskab.

Jeg kan til enhver tid trække samtykket tilbage med ét klik på medlemssiderne. Min ansigtsskabelon og eventuelle gemte fotos af mig slettes så med det samme. Tilbagetrækningen påvirker ikke lovligheden af brugen inden da.

Retsgrundlag: mit udtrykkelige samtykke, databeskyttelsesforordningens artikel 9, stk. 2, litra a.""",
    ),
    ("biometric", "nb"): (
        "Samtykke til ansiktsskanning ved døren",
        """\
Jeg samtykker i at treningskjeden kan kjenne meg igjen på ansiktet når jeg går inn i sentrene.

Fra et bilde av ansiktet mitt beregnes en ansiktsmal: en rekke tall som beskriver ansiktet mitt, og som bare brukes til å sammenligne med kamerabildet ved døren. Malen er biometriske opplysninger. Den lagres kryptert og brukes aldri til noe annet eller gis til andre.

Ansiktsskanning er mitt frie valg. Jeg kan alltid bruke medlemsnummer og PIN-kode ved alle dører i stedet, og et nei får ingen følger for medlemskapet.

Jeg kan når som helst trekke samtykket tilbake med ett klikk på medlemssidene. Ansiktsmalen og eventuelle lagrede bilder av meg slettes da med en gang. Tilbaketrekkingen påvirker ikke lovligheten av bruken før den.

Rettslig grunnlag: mitt uttrykkelige samtykke, personvernforordningen artikkel 9 nr. 2 bokstav a.""",
    ),
    ("marketing", "en"): (
        "News and offers by e-mail",
        """\
I would like to receive news, offers and invitations from the fitness chain by e-mail, at most a few times a month.

This is optional. I can withdraw this consent at any time with one click in the member pages or through the link in every e-mail.""",
    ),
    ("marketing", "da"): (
        "Nyheder og tilbud på e-mail",
        """\
Jeg vil gerne modtage nyheder, tilbud og invitationer fra fitnesskæden på e-mail, højst et par gange om måneden.

Det er frivilligt. Jeg kan til enhver tid trække samtykket tilbage med ét klik på medlemssiderne eller via linket i hver e-mail.""",
    ),
    ("marketing", "nb"): (
        "Nyheter og tilbud på e-post",
        """\
Jeg vil gjerne få nyheter, tilbud og invitasjoner fra treningskjeden på e-post, høyst noen få ganger i måneden.

Dette er frivillig. Jeg kan når som helst trekke samtykket tilbake med ett klikk på medlemssidene eller via lenken i hver e-post.""",
    ),
}
