"""The demo territory « Métropole lilloise », as pure data.

Drawn from the social and solidarity economy (ESS) of Lille. Nothing here is
loaded or written: the demo loader turns these records into accounts,
organisations, projects and events through the domain services.

Conventions:
- texts are in French (the UI is French first);
- dates are relative: ``day_offset`` counts days from the day the demo is
  loaded, and ``start`` is a local time in Europe/Paris, so the agenda stays
  current whatever the load day (the weekday of an event therefore depends on
  that day);
- coordinates are those of the street address, rounded to 5 decimals;
- URLs of online rooms and ticket offices use the reserved ``.test`` domain;
- people are fictional; their e-mail addresses are under ``demo.maillon.example``
  and their password is set by the loader.
"""

from typing import NotRequired, TypedDict


class PlaceData(TypedDict):
    name: NotRequired[str]
    street: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2, "FR"
    latitude: float
    longitude: float


class TerritoryData(TypedDict):
    name: str
    slug: str
    timezone: str
    default_language: str
    bbox: tuple[float, float, float, float]  # (min_lat, min_lon, max_lat, max_lon)
    communes: list[str]  # INSEE codes


class PersonData(TypedDict):
    key: str
    name: str
    email: str


class OrganisationData(TypedDict):
    key: str
    name: str
    kind: str
    legal_form: NotRequired[str]
    description: str
    website: NotRequired[str]
    themes: list[str]
    tags: list[str]
    place: PlaceData
    admin: str  # PersonData.key


class ProjectData(TypedDict):
    name: str
    organisation: str  # OrganisationData.key
    stage: str  # idea | launched | mature
    description: str
    themes: list[str]
    tags: list[str]
    place: NotRequired[PlaceData]


class EventData(TypedDict):
    name: str
    organisation: str  # OrganisationData.key
    co_organisers: NotRequired[list[str]]  # OrganisationData.keys
    day_offset: int  # 0..60, days from the load day
    start: str  # "HH:MM", Europe/Paris
    duration_minutes: int
    description: str
    themes: list[str]
    tags: list[str]
    place: NotRequired[PlaceData]
    online_url: NotRequired[str]
    capacity: NotRequired[int]
    join_mode: str  # free | restricted | external
    external_participation_url: NotRequired[str]
    status: NotRequired[str]  # confirmed (default) | tentative | cancelled


# --------------------------------------------------------------------------
# Territory
# --------------------------------------------------------------------------

TERRITORY: TerritoryData = {
    "name": "Métropole lilloise",
    "slug": "metropole-lilloise",
    "timezone": "Europe/Paris",
    "default_language": "fr",
    # Métropole européenne de Lille: from Carnin / Allennes-les-Marais (south)
    # to Comines / Halluin (north), from Aubers / Fromelles (west) to
    # Baisieux / Toufflers (east), with a small margin.
    "bbox": (50.49, 2.78, 50.82, 3.29),
    # INSEE codes of communes of the MEL. Lomme and Hellemmes-Lille are
    # associated communes of Lille (59350) and have no code of their own here.
    # Only codes known with confidence are listed (not all 95 communes).
    "communes": [
        # the twenty-five most populous
        "59350",  # Lille
        "59512",  # Roubaix
        "59599",  # Tourcoing
        "59009",  # Villeneuve-d'Ascq
        "59650",  # Wattrelos
        "59378",  # Marcq-en-Barœul
        "59328",  # Lambersart
        "59017",  # Armentières
        "59410",  # Mons-en-Barœul
        "59368",  # La Madeleine
        "59163",  # Croix
        "59360",  # Loos
        "59646",  # Wasquehal
        "59299",  # Hem
        "59279",  # Halluin
        "59286",  # Haubourdin
        "59507",  # Ronchin
        "59220",  # Faches-Thumesnil
        "59560",  # Seclin
        "59421",  # Mouvaux
        "59636",  # Wambrechies
        "59527",  # Saint-André-lez-Lille
        "59367",  # Lys-lez-Lannoy
        "59648",  # Wattignies
        "59152",  # Comines
        # other communes
        "59005",  # Allennes-les-Marais
        "59011",  # Annœullin
        "59013",  # Anstaing
        "59025",  # Aubers
        "59044",  # Baisieux
        "59056",  # Beaucamps-Ligny
        "59088",  # Bois-Grenier
        "59090",  # Bondues
        "59098",  # Bousbecque
        "59106",  # Bouvines
        "59128",  # Capinghem
        "59146",  # Chéreng
        "59173",  # Deûlémont
        "59193",  # Emmerin
        "59195",  # Englos
        "59196",  # Ennetières-en-Weppes
        "59201",  # Erquinghem-le-Sec
        "59202",  # Erquinghem-Lys
        "59208",  # Escobecques
        "59247",  # Forest-sur-Marque
        "59250",  # Fournes-en-Weppes
        "59252",  # Frelinghien
        "59256",  # Fretin
        "59257",  # Fromelles
        "59275",  # Gruson
        "59278",  # Hallennes-lez-Haubourdin
        "59281",  # Hantay
        "59303",  # Herlies
        "59316",  # Houplin-Ancoisne
        "59317",  # Houplines
        "59320",  # Illies
        "59332",  # Lannoy
        "59339",  # Leers
        "59343",  # Lesquin
        "59346",  # Lezennes
        "59352",  # Linselles
        "59356",  # Lompret
        "59386",  # Marquette-lez-Lille
        "59426",  # Neuville-en-Ferrain
        "59437",  # Noyelles-lès-Seclin
        "59457",  # Pérenchies
        "59458",  # Péronne-en-Mélantois
        "59470",  # Prémesques
        "59482",  # Quesnoy-sur-Deûle
        "59487",  # Radinghem-en-Weppes
        "59508",  # Roncq
        "59522",  # Sailly-lez-Lannoy
        "59523",  # Sainghin-en-Mélantois
        "59524",  # Sainghin-en-Weppes
        "59553",  # Santes
        "59566",  # Sequedin
        "59585",  # Templemars
        "59598",  # Toufflers
        "59602",  # Tressin
        "59609",  # Vendeville
        "59611",  # Verlinghem
        "59653",  # Wavrin
        "59656",  # Wervicq-Sud
        "59660",  # Willems
        "59670",  # Don
    ],
}


# --------------------------------------------------------------------------
# Places (private; copied into each record that uses them)
# --------------------------------------------------------------------------

_MAISON_ESS: PlaceData = {
    "name": "Maison Stéphane Hessel – Maison de l'ESS (Lille-Moulins)",
    "street": "235 boulevard Paul Painlevé",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62290,
    "longitude": 3.07590,
}

_COFABRIK: PlaceData = {
    "name": "La CoFabrik (Lille-Moulins)",
    "street": "1 bis rue Charles Delesalle",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62370,
    "longitude": 3.06980,
}

_SUPERQUINQUIN: PlaceData = {
    "name": "SuperQuinquin (Lille-Fives)",
    "street": "53 rue Pierre Legrand",
    "postal_code": "59800",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.63170,
    "longitude": 3.08090,
}

_BRICAULIER: PlaceData = {
    "name": "Bricaulier (Lille-Fives)",
    "street": "place Madeleine Caulier",
    "postal_code": "59800",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.63200,
    "longitude": 3.07800,
}

_EL_MARKET: PlaceData = {
    "name": "el MARKET (Wazemmes)",
    "street": "rue Léon Gambetta",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62980,
    "longitude": 3.05680,
}

_PINKUP: PlaceData = {
    "name": "Pink'Up (Wazemmes)",
    "street": "rue des Postes",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62660,
    "longitude": 3.05100,
}

_MAISON_ASSOCIATIONS: PlaceData = {
    "name": "Maison des associations de Lille (Vieux-Lille)",
    "street": "72 rue Royale",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.64170,
    "longitude": 3.05980,
}

_ADAV: PlaceData = {
    "name": "Maison du vélo – ADAV",
    "street": "23 rue Gosselet",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62980,
    "longitude": 3.06620,
}

_AYIN: PlaceData = {
    "name": "Ayïn",
    "street": "rue de Lannoy",
    "postal_code": "59100",
    "city": "Roubaix",
    "country": "FR",
    "latitude": 50.68950,
    "longitude": 3.18600,
}

_GRAND_PLAGE: PlaceData = {
    "name": "Médiathèque La Grand-Plage",
    "street": "2 rue Pierre Motte",
    "postal_code": "59100",
    "city": "Roubaix",
    "country": "FR",
    "latitude": 50.69130,
    "longitude": 3.17800,
}

_GARAGE_HAINAUT: PlaceData = {
    "name": "Garage solidaire du Hainaut – zone d'activités des Pierres Blanches",
    "street": "rue Louis Petit",
    "postal_code": "59220",
    "city": "Denain",
    "country": "FR",
    "latitude": 50.33150,
    "longitude": 3.38900,
}

_GARE_SAINT_SAUVEUR: PlaceData = {
    "name": "Gare Saint-Sauveur",
    "street": "17 boulevard Jean-Baptiste Lebas",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.63030,
    "longitude": 3.07130,
}

_GRAND_PLACE_LILLE: PlaceData = {
    "name": "Grand'Place de Lille",
    "street": "place du Général de Gaulle",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.63690,
    "longitude": 3.06350,
}

_MARCHE_WAZEMMES: PlaceData = {
    "name": "Marché de Wazemmes",
    "street": "place de la Nouvelle Aventure",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62750,
    "longitude": 3.05390,
}

_MAISON_FOLIE_WAZEMMES: PlaceData = {
    "name": "Maison Folie Wazemmes",
    "street": "70 rue des Sarrazins",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62810,
    "longitude": 3.05110,
}

_CINEMA_UNIVERS: PlaceData = {
    "name": "Cinéma L'Univers (Lille-Moulins)",
    "street": "16 rue Georges Danton",
    "postal_code": "59000",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62230,
    "longitude": 3.06800,
}

_PLACE_DEGEYTER: PlaceData = {
    "name": "Place Degeyter (Lille-Fives)",
    "street": "place Degeyter",
    "postal_code": "59800",
    "city": "Lille",
    "country": "FR",
    "latitude": 50.62770,
    "longitude": 3.08720,
}

_PISCINE_ROUBAIX: PlaceData = {
    "name": "Parvis de La Piscine – musée d'art et d'industrie",
    "street": "23 rue de l'Espérance",
    "postal_code": "59100",
    "city": "Roubaix",
    "country": "FR",
    "latitude": 50.68820,
    "longitude": 3.17500,
}

_CONDITION_PUBLIQUE: PlaceData = {
    "name": "La Condition Publique",
    "street": "14 place Faidherbe",
    "postal_code": "59100",
    "city": "Roubaix",
    "country": "FR",
    "latitude": 50.68280,
    "longitude": 3.17650,
}

_HOSPICE_HAVRE: PlaceData = {
    "name": "Maison Folie hospice d'Havré",
    "street": "100 rue de Tournai",
    "postal_code": "59200",
    "city": "Tourcoing",
    "country": "FR",
    "latitude": 50.72120,
    "longitude": 3.16360,
}

_PLAINE_IMAGES: PlaceData = {
    "name": "Plaine Images",
    "street": "99A boulevard Descat",
    "postal_code": "59200",
    "city": "Tourcoing",
    "country": "FR",
    "latitude": 50.70900,
    "longitude": 3.16300,
}

_FERME_EN_HAUT: PlaceData = {
    "name": "Ferme d'en Haut",
    "street": "268 rue Jules Guesde",
    "postal_code": "59650",
    "city": "Villeneuve-d'Ascq",
    "country": "FR",
    "latitude": 50.63990,
    "longitude": 3.13050,
}


# --------------------------------------------------------------------------
# People (fictional)
# --------------------------------------------------------------------------

PEOPLE: list[PersonData] = [
    # administrators of organisations
    {
        "key": "camille",
        "name": "Camille Delattre",
        "email": "camille.delattre@demo.maillon.example",
    },
    {"key": "karim", "name": "Karim Benali", "email": "karim.benali@demo.maillon.example"},
    {"key": "sophie", "name": "Sophie Vandamme", "email": "sophie.vandamme@demo.maillon.example"},
    {"key": "thomas", "name": "Thomas Lefebvre", "email": "thomas.lefebvre@demo.maillon.example"},
    {"key": "ines", "name": "Inès Mabrouk", "email": "ines.mabrouk@demo.maillon.example"},
    {"key": "julien", "name": "Julien Dhondt", "email": "julien.dhondt@demo.maillon.example"},
    {"key": "lea", "name": "Léa Deschamps", "email": "lea.deschamps@demo.maillon.example"},
    # citizens without organisation
    {"key": "marie", "name": "Marie Lemaire", "email": "marie.lemaire@demo.maillon.example"},
    {"key": "yanis", "name": "Yanis Haddad", "email": "yanis.haddad@demo.maillon.example"},
]


# --------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------

ORGANISATIONS: list[OrganisationData] = [
    {
        "key": "maison-ess",
        "name": "Maison de l'économie sociale et solidaire (MESS)",
        "kind": "public-body",
        "description": (
            "<p>La Maison de l'économie sociale et solidaire est un lieu ressource de l'ESS "
            "ouvert en 2016 par la Ville de Lille au sein de la maison Stéphane Hessel, dans "
            "le quartier de Lille-Moulins.</p>"
            "<p>Elle regroupe des associations et des coopératives de l'accompagnement, de la "
            "création d'entreprise et de la finance solidaire, et accueille expositions, "
            "conférences et temps d'information pour les porteurs de projets comme pour les "
            "habitants.</p>"
        ),
        "website": "https://www.lille.fr/Nos-equipements/Maison-de-l-economie-sociale-et-solidaire",
        "themes": ["social-economy", "employment", "citizenship"],
        "tags": ["ess", "tiers-lieu", "creation-activite", "lille-moulins"],
        "place": _MAISON_ESS.copy(),
        "admin": "camille",
    },
    {
        "key": "cofabrik",
        "name": "La CoFabrik",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "La CoFabrik est un espace de travail partagé consacré à l'artisanat d'art, "
            "installé à Lille-Moulins. L'association met à disposition des ateliers équipés et "
            "de l'outillage pour soutenir l'activité de jeunes artisans, et fait découvrir "
            "leurs métiers au public lors d'événements ouverts. Elle participe ainsi à la vie "
            "économique et sociale du quartier."
        ),
        "themes": ["crafts", "culture", "sharing"],
        "tags": ["artisanat-art", "atelier-partage", "tiers-lieu", "lille-moulins"],
        "place": _COFABRIK.copy(),
        "admin": "thomas",
    },
    {
        "key": "apes-hdf",
        "name": "APES Hauts-de-France",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "L'APES (Acteurs pour une économie solidaire) est le réseau régional des "
            "structures de l'économie solidaire des Hauts-de-France. Ses membres se "
            "reconnaissent dans une charte commune : utilité sociale, ancrage territorial, "
            "gouvernance démocratique et lucrativité limitée. Le réseau anime les territoires, "
            "appuie l'émergence d'initiatives et porte la voix de l'économie solidaire dans "
            "le débat public."
        ),
        "website": "https://apes-hdf.org",
        "themes": ["social-economy", "citizenship", "solidarity"],
        "tags": ["ess", "reseau", "economie-solidaire", "education-populaire"],
        "place": _MAISON_ESS.copy(),
        "admin": "camille",
    },
    {
        "key": "adere-hdf",
        "name": "ADERE Hauts-de-France",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "ADERE Hauts-de-France accompagne les organisations de la région qui veulent "
            "développer des pratiques économiques responsables. Elle propose des temps "
            "d'information et des formations, et met en relation entreprises, collectivités "
            "et acteurs de l'ESS, notamment autour des achats responsables."
        ),
        "themes": ["social-economy", "environment", "citizenship"],
        "tags": ["economie-responsable", "achats-responsables", "accompagnement"],
        "place": _MAISON_ESS.copy(),
        "admin": "camille",
    },
    {
        "key": "superquinquin",
        "name": "SuperQuinquin",
        "kind": "cooperative",
        "legal_form": "cooperative",
        "description": (
            "<p><strong>SuperQuinquin</strong> est le supermarché coopératif et participatif "
            "de Lille, ouvert en 2017 dans le quartier de Fives. Ses membres en sont "
            "copropriétaires : ils détiennent des parts sociales, donnent un peu de leur temps "
            "chaque mois pour faire fonctionner le magasin et participent aux décisions.</p>"
            "<p>Le magasin propose les produits du quotidien, avec une attention portée aux "
            "produits locaux et biologiques et à des prix accessibles.</p>"
        ),
        "themes": ["food", "social-economy", "sharing"],
        "tags": ["supermarche-cooperatif", "circuit-court", "bio", "lille-fives"],
        "place": _SUPERQUINQUIN.copy(),
        "admin": "karim",
    },
    {
        "key": "grands-ensemble",
        "name": "Grands Ensemble",
        "kind": "cooperative",
        "legal_form": "cae",
        "description": (
            "Grands Ensemble est une coopérative d'activité et d'emploi (CAE) de la métropole "
            "lilloise. Elle permet de créer et de développer sa propre activité au sein d'une "
            "entreprise partagée, avec le statut d'entrepreneur-salarié, un accompagnement et "
            "des services mutualisés ; les entrepreneurs peuvent ensuite en devenir associés. "
            "Elle fait partie du collectif régional de CAE « Hauts les Coop »."
        ),
        "themes": ["employment", "social-economy", "sharing"],
        "tags": ["cae", "entrepreneuriat", "entrepreneur-salarie", "cooperative"],
        "place": _MAISON_ESS.copy(),
        "admin": "sophie",
    },
    {
        "key": "pinkup",
        "name": "Pink'Up",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "Pink'Up est une association lilloise qui accompagne des femmes dans leurs projets "
            "professionnels et entrepreneuriaux. Elle organise des ateliers collectifs, des "
            "rencontres et du mentorat entre pairs."
        ),
        "themes": ["employment", "social-economy", "solidarity"],
        "tags": ["entrepreneuriat-feminin", "mentorat", "egalite"],
        "place": _PINKUP.copy(),
        "admin": "sophie",
    },
    {
        "key": "garage-solidaire-hainaut",
        "name": "Garage solidaire du Hainaut",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "Le Garage solidaire du Hainaut, porté par l'association Convergences plurielles, "
            "propose depuis 2014 des réparations automobiles à tarif adapté aux personnes à "
            "faibles revenus, à Denain et à Anzin, dans le bassin de Valenciennes. C'est aussi "
            "un chantier d'insertion qui forme au métier de mécanicien des personnes éloignées "
            "de l'emploi. Il est situé hors de la Métropole européenne de Lille."
        ),
        "website": "http://garage-solidaire-hainaut.fr",
        "themes": ["mobility", "employment", "solidarity"],
        "tags": ["garage-solidaire", "insertion", "mobilite-solidaire", "hainaut"],
        "place": _GARAGE_HAINAUT.copy(),
        "admin": "julien",
    },
    {
        "key": "bricaulier",
        "name": "Bricaulier",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "Bricaulier est une association du quartier de Fives, près de la place Madeleine "
            "Caulier, consacrée au bricolage partagé. Elle prête des outils à ses adhérents, "
            "anime des ateliers d'initiation et des séances de réparation, pour privilégier "
            "l'usage plutôt que l'achat."
        ),
        "themes": ["sharing", "crafts", "environment"],
        "tags": ["bricotheque", "pret-outils", "reparation", "lille-fives"],
        "place": _BRICAULIER.copy(),
        "admin": "karim",
    },
    {
        "key": "ayin",
        "name": "Ayïn",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "Ayïn est une association roubaisienne qui mène des projets culturels et "
            "d'éducation populaire avec les habitants. Elle propose des ateliers d'expression "
            "et d'éducation à l'image, ainsi que des projections suivies de débats."
        ),
        "themes": ["culture", "education", "citizenship"],
        "tags": ["education-image", "education-populaire", "roubaix"],
        "place": _AYIN.copy(),
        "admin": "ines",
    },
    {
        "key": "el-market",
        "name": "el MARKET",
        "kind": "social-enterprise",
        "description": (
            "el MARKET est un concept-store lillois consacré à la consommation responsable, "
            "ouvert en 2006 rue Léon Gambetta à Wazemmes, avec une seconde boutique rue de la "
            "Monnaie dans le Vieux-Lille. On y trouve de la mode éthique, de la cosmétique "
            "naturelle, des objets pour la maison et des produits issus du recyclage, avec des "
            "conseils sur leur fabrication et leur provenance."
        ),
        "themes": ["environment", "crafts", "social-economy"],
        "tags": ["consommation-responsable", "mode-ethique", "upcycling", "wazemmes"],
        "place": _EL_MARKET.copy(),
        "admin": "thomas",
    },
    {
        "key": "kilti",
        "name": "Kilti",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "Kilti est une association créée à Lille en 2014 qui propose des paniers culturels, "
            "sur le modèle des paniers de légumes en circuit court. Chaque panier, construit "
            "autour d'un thème, réunit des œuvres d'artistes locaux et des places de "
            "spectacles ; sa distribution donne lieu à une soirée de rencontre avec les "
            "artistes. L'association pratique une politique tarifaire solidaire."
        ),
        "themes": ["culture", "solidarity"],
        "tags": ["panier-culturel", "artistes-locaux", "circuit-court", "acces-culture"],
        "place": _MAISON_ASSOCIATIONS.copy(),
        "admin": "ines",
    },
    {
        "key": "adav",
        "name": "ADAV – Association Droit au vélo",
        "kind": "association",
        "legal_form": "association-1901",
        "description": (
            "L'ADAV promeut l'usage du vélo au quotidien dans la métropole lilloise et la "
            "région. Elle anime des ateliers d'entretien et de réparation, des vélo-écoles "
            "pour adultes et des balades, et dialogue avec les collectivités sur les "
            "aménagements cyclables."
        ),
        "themes": ["mobility", "environment", "sport"],
        "tags": ["velo", "atelier-velo", "velo-ecole", "mobilite-douce"],
        "place": _ADAV.copy(),
        "admin": "julien",
    },
    {
        "key": "repair-cafe-roubaix",
        "name": "Repair Café Roubaix",
        "kind": "informal-group",
        "description": (
            "Collectif de bénévoles qui organise des repair cafés à Roubaix : chacun apporte "
            "un objet en panne et le répare avec l'aide de bricoleurs. L'objectif est de "
            "réduire les déchets et de partager les savoir-faire, dans une ambiance "
            "conviviale."
        ),
        "themes": ["environment", "sharing", "crafts"],
        "tags": ["repair-cafe", "reemploi", "zero-dechet", "roubaix"],
        "place": _GRAND_PLAGE.copy(),
        "admin": "lea",
    },
]


# --------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------

PROJECTS: list[ProjectData] = [
    {
        "name": "Le supermarché coopératif de Fives",
        "organisation": "superquinquin",
        "stage": "mature",
        "description": (
            "Faire vivre un supermarché qui appartient à ses membres : chaque coopérateur "
            "prend des parts sociales, assure un service régulier au magasin et vote en "
            "assemblée générale. Le projet vise une alimentation de qualité accessible à tous "
            "dans un quartier populaire."
        ),
        "themes": ["food", "social-economy"],
        "tags": ["supermarche-cooperatif", "alimentation-durable", "lille-fives"],
        "place": _SUPERQUINQUIN.copy(),
    },
    {
        "name": "Un supermarché coopératif dans l'ouest de la métropole",
        "organisation": "superquinquin",
        "stage": "idea",
        "description": (
            "Des coopérateurs de Lambersart, Lomme et des communes voisines étudient "
            "l'ouverture d'un magasin coopératif sur le modèle de Fives. Recherche d'un local, "
            "de futurs coopérateurs et de partenaires financiers."
        ),
        "themes": ["food", "social-economy", "citizenship"],
        "tags": ["supermarche-cooperatif", "essaimage", "lambersart"],
    },
    {
        "name": "Cartographie ouverte des acteurs de l'économie solidaire",
        "organisation": "apes-hdf",
        "stage": "launched",
        "description": (
            "Recenser les structures de l'économie solidaire de la métropole sur une carte "
            "publique, avec des données ouvertes réutilisables par les collectivités, les "
            "médias et les habitants."
        ),
        "themes": ["social-economy", "digital", "citizenship"],
        "tags": ["cartographie", "open-data", "ess"],
    },
    {
        "name": "Bricothèque de quartier",
        "organisation": "bricaulier",
        "stage": "launched",
        "description": (
            "Une bibliothèque d'outils ouverte aux habitants de Fives : perceuses, scies, "
            "ponceuses et matériel de jardinage se prêtent pour quelques jours, avec des "
            "conseils pour s'en servir."
        ),
        "themes": ["sharing", "crafts", "housing"],
        "tags": ["bricotheque", "pret-outils", "lille-fives"],
        "place": _BRICAULIER.copy(),
    },
    {
        "name": "Ateliers partagés pour artisans d'art",
        "organisation": "cofabrik",
        "stage": "mature",
        "description": (
            "Des ateliers équipés (bois, métal, céramique, sérigraphie) mis à disposition de "
            "jeunes artisans d'art, pour qu'ils développent leur activité sans investir seuls "
            "dans un local et des machines."
        ),
        "themes": ["crafts", "employment", "sharing"],
        "tags": ["artisanat-art", "atelier-partage", "lille-moulins"],
        "place": _COFABRIK.copy(),
    },
    {
        "name": "Paniers culturels solidaires",
        "organisation": "kilti",
        "stage": "mature",
        "description": (
            "Des paniers culturels proposés à tarif réduit via des structures sociales "
            "partenaires, pour ouvrir la découverte des artistes et des lieux culturels "
            "locaux aux publics qui en sont éloignés."
        ),
        "themes": ["culture", "solidarity"],
        "tags": ["panier-culturel", "acces-culture", "tarif-solidaire"],
    },
    {
        "name": "Garage solidaire et chantier d'insertion",
        "organisation": "garage-solidaire-hainaut",
        "stage": "mature",
        "description": (
            "Réparer à petit prix les véhicules de personnes en situation de précarité, pour "
            "qui la voiture conditionne l'accès à l'emploi, tout en formant à la mécanique des "
            "salariés en parcours d'insertion."
        ),
        "themes": ["mobility", "employment", "solidarity"],
        "tags": ["garage-solidaire", "insertion", "mobilite-solidaire"],
        "place": _GARAGE_HAINAUT.copy(),
    },
    {
        "name": "Parcours « Entreprendre en coopérative »",
        "organisation": "grands-ensemble",
        "stage": "launched",
        "description": (
            "Un parcours de quelques mois pour tester son activité au sein de la CAE : "
            "ateliers collectifs, accompagnement individuel et premiers contrats, sans avoir "
            "à créer sa propre structure."
        ),
        "themes": ["employment", "social-economy", "education"],
        "tags": ["cae", "entrepreneuriat", "test-activite"],
    },
    {
        "name": "Vélo-école pour adultes",
        "organisation": "adav",
        "stage": "launched",
        "description": (
            "Apprendre ou réapprendre à rouler à vélo en ville, en petits groupes et avec des "
            "moniteurs bénévoles : équilibre, code de la route, premiers trajets accompagnés."
        ),
        "themes": ["mobility", "education", "sport"],
        "tags": ["velo-ecole", "velo", "mobilite-douce"],
        "place": _ADAV.copy(),
    },
    {
        "name": "Un repair café dans chaque quartier de Roubaix",
        "organisation": "repair-cafe-roubaix",
        "stage": "idea",
        "description": (
            "Essaimer les repair cafés dans les maisons de quartier de Roubaix, avec une "
            "caisse à outils commune et un réseau de bénévoles réparateurs."
        ),
        "themes": ["environment", "sharing", "citizenship"],
        "tags": ["repair-cafe", "reemploi", "roubaix"],
    },
    {
        "name": "Toitures solaires citoyennes à Moulins",
        "organisation": "maison-ess",
        "stage": "idea",
        "description": (
            "Étudier avec les habitants l'installation de panneaux photovoltaïques sur des "
            "toitures du quartier de Moulins, financés par l'épargne citoyenne et gérés en "
            "coopérative."
        ),
        "themes": ["energy", "citizenship", "environment"],
        "tags": ["energie-citoyenne", "photovoltaique", "lille-moulins"],
        "place": _MAISON_ESS.copy(),
    },
    {
        "name": "Mentorat d'entrepreneuses",
        "organisation": "pinkup",
        "stage": "launched",
        "description": (
            "Mettre en binôme des femmes qui créent leur activité avec des entrepreneuses plus "
            "expérimentées, pour six mois de rencontres régulières."
        ),
        "themes": ["employment", "solidarity"],
        "tags": ["mentorat", "entrepreneuriat-feminin"],
    },
    {
        "name": "Achats responsables dans les collectivités",
        "organisation": "adere-hdf",
        "stage": "idea",
        "description": (
            "Aider des communes de la métropole à intégrer des clauses sociales et "
            "environnementales dans leurs marchés publics et à mieux connaître l'offre des "
            "structures de l'ESS."
        ),
        "themes": ["social-economy", "citizenship", "environment"],
        "tags": ["achats-responsables", "commande-publique", "clauses-sociales"],
    },
]


# --------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------

EVENTS: list[EventData] = [
    {
        "name": "Apéro d'accueil des nouveaux coopérateurs",
        "organisation": "superquinquin",
        "day_offset": 0,
        "start": "18:30",
        "duration_minutes": 90,
        "description": (
            "Vous venez de prendre vos parts ou vous hésitez encore ? Visite du magasin, "
            "présentation des services et des commissions, puis échange autour d'un verre."
        ),
        "themes": ["food", "social-economy"],
        "tags": ["supermarche-cooperatif", "accueil", "lille-fives"],
        "place": _SUPERQUINQUIN.copy(),
        "capacity": 40,
        "join_mode": "free",
    },
    {
        "name": "Repair café à la Grand-Plage",
        "organisation": "repair-cafe-roubaix",
        "day_offset": 1,
        "start": "14:00",
        "duration_minutes": 180,
        "description": (
            "Apportez vos objets en panne (petit électroménager, vêtements, jouets, vélos) et "
            "réparez-les avec l'aide des bénévoles. Gratuit, sans inscription."
        ),
        "themes": ["environment", "sharing"],
        "tags": ["repair-cafe", "reparation", "zero-dechet", "roubaix"],
        "place": _GRAND_PLAGE.copy(),
        "join_mode": "free",
    },
    {
        "name": "Formation : créer son activité en coopérative d'activité et d'emploi",
        "organisation": "grands-ensemble",
        "day_offset": 2,
        "start": "09:30",
        "duration_minutes": 180,
        "description": (
            "Statut d'entrepreneur-salarié, contribution à la coopérative, accompagnement, "
            "sociétariat : une matinée pour comprendre le fonctionnement d'une CAE. "
            "Inscription validée après un court échange avec l'équipe."
        ),
        "themes": ["employment", "social-economy", "education"],
        "tags": ["cae", "formation", "entrepreneuriat"],
        "place": _MAISON_ESS.copy(),
        "capacity": 20,
        "join_mode": "restricted",
    },
    {
        "name": "Ciné-débat : consommer autrement",
        "organisation": "el-market",
        "co_organisers": ["kilti"],
        "day_offset": 3,
        "start": "19:30",
        "duration_minutes": 150,
        "description": (
            "Projection d'un documentaire sur la fabrication de nos vêtements, suivie d'un "
            "débat avec des créateurs locaux et l'équipe d'el MARKET."
        ),
        "themes": ["culture", "environment", "citizenship"],
        "tags": ["cine-debat", "mode-ethique", "consommation-responsable"],
        "place": _CINEMA_UNIVERS.copy(),
        "capacity": 90,
        "join_mode": "free",
    },
    {
        "name": "Atelier vélo : réparer une crevaison",
        "organisation": "adav",
        "day_offset": 4,
        "start": "10:00",
        "duration_minutes": 120,
        "description": (
            "Démonter une roue, trouver le trou, poser une rustine ou changer la chambre à "
            "air : on apprend sur son propre vélo, outils fournis."
        ),
        "themes": ["mobility", "crafts"],
        "tags": ["atelier-velo", "velo", "reparation"],
        "place": _ADAV.copy(),
        "capacity": 12,
        "join_mode": "free",
    },
    {
        "name": "Disco soupe au marché de Wazemmes",
        "organisation": "apes-hdf",
        "co_organisers": ["superquinquin"],
        "day_offset": 5,
        "start": "11:00",
        "duration_minutes": 240,
        "description": (
            "Épluchage en musique de fruits et légumes invendus récupérés auprès des "
            "commerçants, puis soupes et salades partagées gratuitement avec les passants."
        ),
        "themes": ["food", "solidarity", "environment"],
        "tags": ["disco-soupe", "anti-gaspillage", "wazemmes"],
        "place": _MARCHE_WAZEMMES.copy(),
        "join_mode": "free",
    },
    {
        "name": "Portes ouvertes de la CoFabrik",
        "organisation": "cofabrik",
        "day_offset": 6,
        "start": "14:00",
        "duration_minutes": 240,
        "description": (
            "Visite des ateliers, démonstrations par les artisans résidents (lutherie, "
            "céramique, sérigraphie) et présentation des ateliers disponibles à la location."
        ),
        "themes": ["crafts", "culture"],
        "tags": ["portes-ouvertes", "artisanat-art", "lille-moulins"],
        "place": _COFABRIK.copy(),
        "join_mode": "free",
    },
    {
        "name": "Assemblée générale de l'APES",
        "organisation": "apes-hdf",
        "day_offset": 7,
        "start": "18:00",
        "duration_minutes": 150,
        "description": (
            "Rapport moral et financier, orientations de l'année et élection du conseil "
            "d'administration. Réservée aux structures adhérentes."
        ),
        "themes": ["social-economy", "citizenship"],
        "tags": ["assemblee-generale", "reseau", "ess"],
        "place": _MAISON_ESS.copy(),
        "join_mode": "restricted",
    },
    {
        "name": "Webinaire : l'ESS, comment ça marche ?",
        "organisation": "maison-ess",
        "day_offset": 8,
        "start": "12:30",
        "duration_minutes": 60,
        "description": (
            "Associations, coopératives, mutuelles, fondations, entreprises solidaires : une "
            "heure en ligne pour comprendre les statuts et les principes de l'économie sociale "
            "et solidaire."
        ),
        "themes": ["social-economy", "education"],
        "tags": ["webinaire", "ess", "initiation"],
        "online_url": "https://visio.demo.maillon.example/mess/ess-comment-ca-marche",
        "join_mode": "free",
    },
    {
        "name": "Journée diagnostic : entretien de votre véhicule",
        "organisation": "garage-solidaire-hainaut",
        "day_offset": 9,
        "start": "09:00",
        "duration_minutes": 480,
        "description": (
            "Contrôle des niveaux, des pneus, de l'éclairage et des freins par l'équipe du "
            "garage solidaire, sur rendez-vous, pour les personnes orientées par un "
            "travailleur social ou inscrites comme demandeuses d'emploi."
        ),
        "themes": ["mobility", "solidarity"],
        "tags": ["garage-solidaire", "mobilite-solidaire", "entretien"],
        "place": _GARAGE_HAINAUT.copy(),
        "capacity": 16,
        "join_mode": "free",
    },
    {
        "name": "Soirée de distribution du panier culturel",
        "organisation": "kilti",
        "day_offset": 10,
        "start": "19:00",
        "duration_minutes": 180,
        "description": (
            "Les abonnés découvrent le contenu du nouveau panier et rencontrent les artistes "
            "qui y figurent : concert acoustique, lectures et dédicaces. Panier à réserver "
            "sur la billetterie de l'association."
        ),
        "themes": ["culture"],
        "tags": ["panier-culturel", "artistes-locaux", "wazemmes"],
        "place": _MAISON_FOLIE_WAZEMMES.copy(),
        "join_mode": "external",
        "external_participation_url": "https://billetterie.demo.maillon.example/kilti/panier",
    },
    {
        "name": "Atelier bricolage : fixer une étagère",
        "organisation": "bricaulier",
        "day_offset": 11,
        "start": "14:00",
        "duration_minutes": 120,
        "description": (
            "Choisir ses chevilles selon le mur, percer droit, mettre à niveau : un atelier "
            "pratique pour débuter, avec le matériel de la bricothèque."
        ),
        "themes": ["crafts", "sharing", "housing"],
        "tags": ["bricolage", "bricotheque", "lille-fives"],
        "place": _BRICAULIER.copy(),
        "capacity": 8,
        "join_mode": "free",
    },
    {
        "name": "Marché de créateurs éco-responsables",
        "organisation": "el-market",
        "co_organisers": ["cofabrik"],
        "day_offset": 12,
        "start": "10:00",
        "duration_minutes": 480,
        "description": (
            "Une trentaine de créateurs et d'artisans de la métropole : textile, céramique, "
            "bijoux, cosmétiques naturels et objets upcyclés."
        ),
        "themes": ["crafts", "culture", "social-economy"],
        "tags": ["marche-createurs", "artisanat", "upcycling"],
        "place": _GARE_SAINT_SAUVEUR.copy(),
        "join_mode": "free",
    },
    {
        "name": "Rencontre : entreprendre au féminin",
        "organisation": "pinkup",
        "co_organisers": ["grands-ensemble"],
        "day_offset": 13,
        "start": "18:30",
        "duration_minutes": 120,
        "description": (
            "Témoignages d'entrepreneuses de la métropole et présentation des dispositifs "
            "d'accompagnement. Sur place à la Maison de l'ESS ou en ligne."
        ),
        "themes": ["employment", "social-economy"],
        "tags": ["entrepreneuriat-feminin", "temoignages", "mentorat"],
        "place": _MAISON_ESS.copy(),
        "online_url": "https://visio.demo.maillon.example/pinkup/entreprendre-au-feminin",
        "capacity": 50,
        "join_mode": "free",
    },
    {
        "name": "Forum de l'emploi dans l'ESS",
        "organisation": "maison-ess",
        "co_organisers": ["apes-hdf", "grands-ensemble"],
        "day_offset": 14,
        "start": "09:30",
        "duration_minutes": 390,
        "description": (
            "Associations, coopératives et entreprises d'insertion présentent leurs offres "
            "d'emploi, de stage et de service civique. Ateliers CV et simulations d'entretien "
            "toute la journée."
        ),
        "themes": ["employment", "social-economy"],
        "tags": ["forum-emploi", "recrutement", "service-civique"],
        "place": _GARE_SAINT_SAUVEUR.copy(),
        "join_mode": "free",
    },
    {
        "name": "Visite guidée du supermarché coopératif",
        "organisation": "superquinquin",
        "day_offset": 15,
        "start": "15:00",
        "duration_minutes": 60,
        "description": (
            "Comment fonctionne un magasin tenu par ses membres ? Visite des rayons et de la "
            "réserve, organisation des services et choix des produits."
        ),
        "themes": ["food", "social-economy"],
        "tags": ["visite", "supermarche-cooperatif", "lille-fives"],
        "place": _SUPERQUINQUIN.copy(),
        "capacity": 15,
        "join_mode": "free",
    },
    {
        "name": "Atelier d'éducation à l'image",
        "organisation": "ayin",
        "day_offset": 16,
        "start": "18:00",
        "duration_minutes": 120,
        "description": (
            "Décrypter une photo de presse, une publicité ou une vidéo virale : un atelier "
            "ouvert aux adolescents et aux adultes, suivi d'un temps d'échange."
        ),
        "themes": ["education", "culture", "digital"],
        "tags": ["education-image", "esprit-critique", "roubaix"],
        "place": _AYIN.copy(),
        "capacity": 20,
        "join_mode": "free",
    },
    {
        "name": "Balade à vélo : les lieux de l'ESS à Roubaix",
        "organisation": "adav",
        "co_organisers": ["ayin", "repair-cafe-roubaix"],
        "day_offset": 17,
        "start": "10:00",
        "duration_minutes": 180,
        "description": (
            "Une boucle d'une quinzaine de kilomètres à allure tranquille, à la rencontre "
            "d'initiatives solidaires de Roubaix. Départ devant La Piscine ; casque conseillé."
        ),
        "themes": ["mobility", "sport", "social-economy"],
        "tags": ["balade-velo", "velo", "roubaix"],
        "place": _PISCINE_ROUBAIX.copy(),
        "join_mode": "free",
    },
    {
        "name": "Café citoyen : la commande publique responsable",
        "organisation": "adere-hdf",
        "day_offset": 18,
        "start": "19:00",
        "duration_minutes": 120,
        "description": (
            "Comment une commune peut-elle acheter local, social et durable ? Échange entre "
            "élus, agents et structures de l'ESS, à partir d'exemples de la métropole."
        ),
        "themes": ["citizenship", "social-economy"],
        "tags": ["cafe-citoyen", "achats-responsables", "commande-publique"],
        "place": _MAISON_ESS.copy(),
        "join_mode": "free",
    },
    {
        "name": "Repair café : petit électroménager",
        "organisation": "bricaulier",
        "co_organisers": ["repair-cafe-roubaix"],
        "day_offset": 19,
        "start": "14:00",
        "duration_minutes": 180,
        "description": (
            "Grille-pain, bouilloire, aspirateur ou lampe en panne ? Diagnostic et réparation "
            "avec les bénévoles de Bricaulier et du Repair Café Roubaix."
        ),
        "themes": ["environment", "sharing", "crafts"],
        "tags": ["repair-cafe", "reparation", "lille-fives"],
        "place": _BRICAULIER.copy(),
        "join_mode": "free",
    },
    {
        "name": "Quinzaine de l'ESS : village des initiatives",
        "organisation": "maison-ess",
        "co_organisers": ["apes-hdf", "adere-hdf", "superquinquin", "kilti"],
        "day_offset": 20,
        "start": "10:00",
        "duration_minutes": 420,
        "description": (
            "<p>Une quarantaine de structures de l'économie sociale et solidaire tiennent "
            "stand sur la Grand'Place : alimentation, réemploi, mobilité, culture, "
            "finance solidaire.</p><p><strong>Animations</strong> pour les enfants, "
            "dégustations et mini-conférences toute la journée.</p>"
        ),
        "themes": ["social-economy", "citizenship", "solidarity"],
        "tags": ["village-ess", "quinzaine-ess", "grand-place"],
        "place": _GRAND_PLACE_LILLE.copy(),
        "join_mode": "free",
    },
    {
        "name": "Réunion d'information en ligne : rejoindre une CAE",
        "organisation": "grands-ensemble",
        "day_offset": 21,
        "start": "18:30",
        "duration_minutes": 90,
        "description": (
            "Présentation de la coopérative, des conditions d'entrée et des étapes de "
            "l'accompagnement, puis questions-réponses."
        ),
        "themes": ["employment", "social-economy"],
        "tags": ["cae", "reunion-information", "entrepreneuriat"],
        "online_url": "https://visio.demo.maillon.example/grands-ensemble/information",
        "join_mode": "free",
    },
    {
        "name": "Formation : mesurer son utilité sociale",
        "organisation": "apes-hdf",
        "day_offset": 22,
        "start": "09:00",
        "duration_minutes": 420,
        "description": (
            "Une journée pour construire des indicateurs d'utilité sociale adaptés à sa "
            "structure et les mettre en récit auprès des financeurs et des adhérents."
        ),
        "themes": ["social-economy", "education"],
        "tags": ["formation", "utilite-sociale", "evaluation"],
        "place": _MAISON_ESS.copy(),
        "capacity": 18,
        "join_mode": "free",
    },
    {
        "name": "Atelier couture : réemploi textile",
        "organisation": "cofabrik",
        "co_organisers": ["el-market"],
        "day_offset": 23,
        "start": "14:00",
        "duration_minutes": 180,
        "description": (
            "Transformer un vêtement usé en sac ou en trousse : patronage, découpe et couture "
            "à la machine. Apportez un vêtement que vous ne portez plus."
        ),
        "themes": ["crafts", "environment"],
        "tags": ["couture", "reemploi", "upcycling"],
        "place": _COFABRIK.copy(),
        "capacity": 10,
        "join_mode": "free",
    },
    {
        "name": "Concert des artistes du panier culturel",
        "organisation": "kilti",
        "day_offset": 24,
        "start": "20:00",
        "duration_minutes": 150,
        "description": (
            "Deux groupes de la scène régionale présents dans le dernier panier Kilti, en "
            "concert à Tourcoing. Places à tarif solidaire."
        ),
        "themes": ["culture"],
        "tags": ["concert", "artistes-locaux", "tourcoing"],
        "place": _HOSPICE_HAVRE.copy(),
        "capacity": 150,
        "join_mode": "external",
        "external_participation_url": "https://billetterie.demo.maillon.example/kilti/concert",
    },
    {
        "name": "Atelier : réduire sa facture d'énergie",
        "organisation": "adere-hdf",
        "co_organisers": ["maison-ess"],
        "day_offset": 25,
        "start": "10:00",
        "duration_minutes": 150,
        "description": (
            "Lire sa facture, repérer les appareils gourmands, isoler à petit prix et "
            "connaître les aides à la rénovation. Des kits d'économie d'eau et d'énergie sont "
            "distribués aux participants."
        ),
        "themes": ["energy", "housing", "solidarity"],
        "tags": ["precarite-energetique", "economies-energie", "renovation"],
        "place": _FERME_EN_HAUT.copy(),
        "capacity": 25,
        "join_mode": "free",
    },
    {
        "name": "Atelier vélo du soir",
        "organisation": "adav",
        "day_offset": 26,
        "start": "18:00",
        "duration_minutes": 150,
        "description": (
            "Réglage des freins et des vitesses, graissage de la chaîne, éclairage : venez "
            "entretenir votre vélo avec l'aide de bénévoles."
        ),
        "themes": ["mobility", "crafts"],
        "tags": ["atelier-velo", "velo", "autoreparation"],
        "place": _ADAV.copy(),
        "join_mode": "free",
    },
    {
        "name": "Disco soupe place Degeyter",
        "organisation": "superquinquin",
        "co_organisers": ["bricaulier"],
        "day_offset": 27,
        "start": "11:00",
        "duration_minutes": 210,
        "description": (
            "Cuisine collective en plein air avec les invendus du magasin et des commerçants "
            "du quartier, repas partagé à prix libre."
        ),
        "themes": ["food", "solidarity", "environment"],
        "tags": ["disco-soupe", "anti-gaspillage", "lille-fives"],
        "place": _PLACE_DEGEYTER.copy(),
        "join_mode": "free",
    },
    {
        "name": "Marche découverte de Moulins",
        "organisation": "maison-ess",
        "day_offset": 28,
        "start": "14:30",
        "duration_minutes": 120,
        "description": (
            "Une marche de cinq kilomètres à la découverte des lieux solidaires du quartier de "
            "Moulins, du jardin partagé aux ateliers d'artisans. Départ de la Maison de l'ESS."
        ),
        "themes": ["sport", "health", "citizenship"],
        "tags": ["marche", "decouverte-quartier", "lille-moulins"],
        "place": _MAISON_ESS.copy(),
        "join_mode": "free",
    },
    {
        "name": "Ciné-débat : la santé dans les quartiers",
        "organisation": "ayin",
        "day_offset": 29,
        "start": "19:00",
        "duration_minutes": 150,
        "description": (
            "Projection d'un documentaire sur l'accès aux soins, suivie d'une discussion avec "
            "des professionnels de santé et des habitants de Roubaix."
        ),
        "themes": ["health", "culture", "citizenship"],
        "tags": ["cine-debat", "acces-soins", "roubaix"],
        "place": _CONDITION_PUBLIQUE.copy(),
        "join_mode": "free",
    },
    {
        "name": "Portes ouvertes du Garage solidaire",
        "organisation": "garage-solidaire-hainaut",
        "day_offset": 31,
        "start": "10:00",
        "duration_minutes": 300,
        "description": (
            "Visite de l'atelier, rencontre avec les salariés en insertion et les encadrants "
            "techniques, informations sur les conditions d'accès aux services du garage."
        ),
        "themes": ["mobility", "employment"],
        "tags": ["portes-ouvertes", "garage-solidaire", "insertion"],
        "place": _GARAGE_HAINAUT.copy(),
        "join_mode": "free",
    },
    {
        "name": "Conférence : financer un projet par l'épargne solidaire",
        "organisation": "maison-ess",
        "co_organisers": ["apes-hdf"],
        "day_offset": 32,
        "start": "18:30",
        "duration_minutes": 120,
        "description": (
            "Clubs d'investisseurs citoyens, prêts d'honneur, financement participatif, parts "
            "sociales : panorama des outils de finance solidaire pour les porteurs de projets."
        ),
        "themes": ["social-economy", "citizenship"],
        "tags": ["finance-solidaire", "conference", "financement"],
        "place": _MAISON_ESS.copy(),
        "join_mode": "free",
    },
    {
        "name": "Atelier numérique : le site web de son association",
        "organisation": "maison-ess",
        "day_offset": 34,
        "start": "10:00",
        "duration_minutes": 180,
        "description": (
            "Choisir un outil libre, structurer ses pages, publier ses événements et respecter "
            "l'accessibilité : un atelier pratique, venir avec son ordinateur."
        ),
        "themes": ["digital", "education"],
        "tags": ["numerique", "logiciel-libre", "vie-associative"],
        "place": _MAISON_ESS.copy(),
        "capacity": 12,
        "join_mode": "free",
    },
    {
        "name": "Grande braderie du réemploi",
        "organisation": "repair-cafe-roubaix",
        "co_organisers": ["ayin"],
        "day_offset": 36,
        "start": "09:00",
        "duration_minutes": 480,
        "description": (
            "Vêtements, livres, vaisselle et petits meubles de seconde main, stand de "
            "réparation et zone de gratuité."
        ),
        "themes": ["environment", "sharing", "solidarity"],
        "tags": ["reemploi", "seconde-main", "gratuiterie", "roubaix"],
        "place": _CONDITION_PUBLIQUE.copy(),
        "join_mode": "free",
    },
    {
        "name": "Assemblée générale de SuperQuinquin",
        "organisation": "superquinquin",
        "day_offset": 38,
        "start": "18:00",
        "duration_minutes": 180,
        "description": (
            "Bilan de l'année, vote des comptes et des orientations de la coopérative. "
            "Réservée aux coopérateurs : une personne, une voix."
        ),
        "themes": ["food", "social-economy", "citizenship"],
        "tags": ["assemblee-generale", "gouvernance", "supermarche-cooperatif"],
        "place": _SUPERQUINQUIN.copy(),
        "join_mode": "restricted",
    },
    {
        "name": "Atelier bricolage parents-enfants",
        "organisation": "bricaulier",
        "day_offset": 40,
        "start": "10:00",
        "duration_minutes": 120,
        "description": (
            "Fabriquer un nichoir à oiseaux en bois, en binôme parent-enfant, à partir de "
            "chutes de planches. Date à confirmer selon la disponibilité de la salle."
        ),
        "themes": ["crafts", "education", "environment"],
        "tags": ["bricolage", "famille", "lille-fives"],
        "place": _BRICAULIER.copy(),
        "capacity": 10,
        "join_mode": "free",
        "status": "tentative",
    },
    {
        "name": "Ciné-débat : habiter autrement",
        "organisation": "maison-ess",
        "co_organisers": ["apes-hdf"],
        "day_offset": 42,
        "start": "19:30",
        "duration_minutes": 150,
        "description": (
            "Habitat participatif, coopératives d'habitants, bail réel solidaire : un "
            "documentaire puis un débat avec des habitants de projets de la métropole."
        ),
        "themes": ["housing", "citizenship", "culture"],
        "tags": ["cine-debat", "habitat-participatif", "logement"],
        "place": _CINEMA_UNIVERS.copy(),
        "join_mode": "free",
    },
    {
        "name": "Formation : la gouvernance partagée en coopérative",
        "organisation": "grands-ensemble",
        "co_organisers": ["apes-hdf"],
        "day_offset": 45,
        "start": "09:00",
        "duration_minutes": 420,
        "description": (
            "Prise de décision par consentement, élection sans candidat, rôles tournants : "
            "des outils concrets pour associer les membres aux décisions."
        ),
        "themes": ["social-economy", "education"],
        "tags": ["gouvernance-partagee", "formation", "cooperative"],
        "place": _MAISON_ESS.copy(),
        "capacity": 16,
        "join_mode": "free",
    },
    {
        "name": "Marché des artisans de la CoFabrik",
        "organisation": "cofabrik",
        "day_offset": 48,
        "start": "14:00",
        "duration_minutes": 300,
        "description": (
            "Vente directe des créations des artisans résidents. Annulé : les ateliers sont en "
            "travaux, le marché sera reprogrammé."
        ),
        "themes": ["crafts", "culture"],
        "tags": ["marche-createurs", "artisanat-art", "lille-moulins"],
        "place": _COFABRIK.copy(),
        "join_mode": "free",
        "status": "cancelled",
    },
    {
        "name": "Rencontre des épiceries et supermarchés coopératifs",
        "organisation": "superquinquin",
        "co_organisers": ["apes-hdf"],
        "day_offset": 52,
        "start": "10:00",
        "duration_minutes": 360,
        "description": (
            "Coopératives et groupements d'achat de la métropole partagent leurs pratiques : "
            "approvisionnement local, logistique, accueil de nouveaux membres."
        ),
        "themes": ["food", "social-economy", "sharing"],
        "tags": ["supermarche-cooperatif", "circuit-court", "villeneuve-d-ascq"],
        "place": _FERME_EN_HAUT.copy(),
        "join_mode": "free",
    },
    {
        "name": "Carto-partie : cartographier l'économie solidaire",
        "organisation": "apes-hdf",
        "co_organisers": ["maison-ess"],
        "day_offset": 55,
        "start": "18:30",
        "duration_minutes": 180,
        "description": (
            "Une soirée contributive pour compléter la carte ouverte des acteurs de l'ESS : "
            "on vérifie les adresses, on ajoute les lieux manquants, on documente les données."
        ),
        "themes": ["digital", "citizenship", "social-economy"],
        "tags": ["cartographie", "open-data", "contribution"],
        "place": _PLAINE_IMAGES.copy(),
        "capacity": 30,
        "join_mode": "free",
    },
    {
        "name": "Bourse aux vélos d'occasion",
        "organisation": "adav",
        "day_offset": 58,
        "start": "10:00",
        "duration_minutes": 300,
        "description": (
            "Dépôt des vélos le matin, vente l'après-midi ; chaque vélo est vérifié par des "
            "bénévoles avant la mise en vente."
        ),
        "themes": ["mobility", "sharing"],
        "tags": ["bourse-velos", "velo", "seconde-main"],
        "place": _GARE_SAINT_SAUVEUR.copy(),
        "join_mode": "free",
    },
    {
        "name": "Restitution : la mobilité, frein à l'emploi",
        "organisation": "garage-solidaire-hainaut",
        "co_organisers": ["apes-hdf"],
        "day_offset": 60,
        "start": "14:00",
        "duration_minutes": 120,
        "description": (
            "Présentation des enseignements tirés de l'activité du garage solidaire et débat "
            "avec les acteurs de l'insertion et de la mobilité."
        ),
        "themes": ["mobility", "employment", "solidarity"],
        "tags": ["mobilite-solidaire", "insertion", "restitution"],
        "place": _GARAGE_HAINAUT.copy(),
        "join_mode": "free",
    },
]
