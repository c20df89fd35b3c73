"""Distributions and per-region behaviour behind the synthetic national dataset.

Everything the generator draws from lives here, with where each figure comes from. Figures
marked *reported* are from `../shared/data/README.md` (MOJ and MOIS releases, copied into
`regions/data/`); figures marked *illustrative* are plausible choices made so that the data
looks like a country and so that the annual evaluation has differences between regions to find.
They are not statistics and must not be quoted as such.

Visa codes are those of `policy/national/visa_categories.yaml`. Short-term visitors (B-1, B-2,
C-3), who make up much of the real illegal-stay population, are not in that file, so illegal
stayers here last held one of the long-stay statuses below.
"""

from __future__ import annotations

import datetime as dt

AS_OF = dt.date(2026, 6, 30)
# Border, address and KIIP feeds are modelled from this date; statuses and first addresses of
# people who came earlier may start before it, as a register's opening state does.
WINDOW_START = dt.date(2019, 1, 1)
PILOT_START = dt.date(2025, 4, 15)  # first grants under the 2025 pilot designs (selection on 2 April 2025)

ILLEGAL_SHARE = 0.15  # reported: 397,522 illegal stays at end-2024, about 15% of foreign residents
DEPARTED_SHARE = 0.06  # illustrative: former residents who left before the reference date (extra people)
LATE_REPORT_SHARE = 0.08  # illustrative; the legal limit (14 days) is reported
REPORT_LIMIT_DAYS = 14  # reported: a change of address must be reported within 14 days
REGION_LEVEL_ADDRESS_SHARE = 0.08  # illustrative: reports that give only the 2-digit region code

# ---------------------------------------------------------------------------------------------
# Statuses. Order matters only for array indexing; every table below is keyed by code.
VISAS = ("E-9", "D-2", "F-5", "F-6", "E-7", "F-4", "H-2", "D-4", "F-2", "E-8", "D-10", "G-1")

# Holders among *legal* residents; the generator scales these to (1 - ILLEGAL_SHARE) x residents.
LEGAL_STATUS_COUNTS = {
    "E-9": 335_122,  # reported: registered foreigners by status, Nov 2025
    "D-2": 222_099,  # reported, Nov 2025
    "F-5": 219_266,  # reported, Nov 2025
    "F-6": 152_546,  # reported, Nov 2025
    "E-7": 63_580,  # reported: E-7 holders, Dec 2024
    "F-4": 480_000,  # illustrative: overseas Koreans, the largest single group of long-stay residents
    "H-2": 105_000,  # illustrative: working visit (mostly ethnic Koreans from China and Central Asia)
    "D-4": 75_000,  # illustrative: language trainees
    "F-2": 48_000,  # illustrative: residence (incl. F-2-R regional)
    "E-8": 40_000,  # illustrative: seasonal workers present on a summer reference date
    "D-10": 14_000,  # illustrative: job seekers
    "G-1": 22_000,  # illustrative: miscellaneous (pending cases, humanitarian)
}

# Last status held by illegal stayers (illustrative: overstays concentrate in work and study visas).
ILLEGAL_LAST_STATUS = {
    "E-9": 0.24, "E-8": 0.13, "H-2": 0.10, "D-2": 0.14, "D-4": 0.15, "G-1": 0.07,
    "F-4": 0.04, "E-7": 0.03, "D-10": 0.05, "F-6": 0.04, "F-2": 0.01,
}  # fmt: skip

# Last status of people who left before the reference date (illustrative).
DEPARTED_LAST_STATUS = {
    "D-2": 0.24, "E-9": 0.25, "E-8": 0.15, "D-4": 0.10, "H-2": 0.08, "E-7": 0.06,
    "F-4": 0.05, "G-1": 0.03, "D-10": 0.04,
}  # fmt: skip
DEPARTED_OVERSTAYED = 0.25  # illustrative: left after overstaying (removal or voluntary departure)

# Grant lengths in days, drawn with the given weights (illustrative, after the usual terms:
# E-9/H-2 3 years then 1 year 10 months; F-5 cards are renewed every 10 years).
DURATIONS = {
    "E-9": ((1095, 670), (0.6, 0.4)),
    "D-2": ((365, 730), (0.6, 0.4)),
    "F-5": ((3650,), (1.0,)),
    "F-6": ((365, 730, 1095), (0.3, 0.4, 0.3)),
    "E-7": ((365, 730, 1095), (0.4, 0.35, 0.25)),
    "F-4": ((1095,), (1.0,)),
    "H-2": ((1095, 670), (0.6, 0.4)),
    "D-4": ((182, 365), (0.5, 0.5)),
    "F-2": ((1095, 1825), (0.6, 0.4)),
    "E-8": ((150, 240), (0.5, 0.5)),  # the generator relies on no grant being shorter than 150 days
    "D-10": ((182,), (1.0,)),
    "G-1": ((182, 365), (0.5, 0.5)),
}

# Probability of 1, 2 or 3 grants in a person's chain (renewals and changes of status).
# F-5, F-2, D-10 and G-1 always follow an earlier status; E-8 seasonal workers hold one grant.
GRANT_COUNT = {
    "E-9": (0.60, 0.35, 0.05), "D-2": (0.60, 0.32, 0.08), "F-5": (0.0, 0.8, 0.2),
    "F-6": (0.55, 0.35, 0.10), "E-7": (0.55, 0.35, 0.10), "F-4": (0.60, 0.32, 0.08),
    "H-2": (0.60, 0.35, 0.05), "D-4": (0.75, 0.25, 0.0), "F-2": (0.0, 0.85, 0.15),
    "E-8": (1.0, 0.0, 0.0), "D-10": (0.0, 0.9, 0.1), "G-1": (0.0, 0.9, 0.1),
}  # fmt: skip

# The status held before: P(previous visa | visa). Illustrative, after the usual paths
# (language course → degree → job seeking → professional work → residence → permanent residence).
PREVIOUS_STATUS = {
    "E-9": {"E-9": 1.0},
    "D-2": {"D-2": 0.75, "D-4": 0.25},
    "F-5": {"F-6": 0.4, "F-2": 0.3, "E-7": 0.15, "F-4": 0.15},
    "F-6": {"F-6": 1.0},
    "E-7": {"E-7": 0.6, "D-2": 0.2, "D-10": 0.1, "E-9": 0.1},
    "F-4": {"F-4": 0.85, "H-2": 0.15},
    "H-2": {"H-2": 1.0},
    "D-4": {"D-4": 1.0},
    "F-2": {"F-2": 0.4, "E-7": 0.35, "D-2": 0.25},
    "E-8": {"E-8": 1.0},
    "D-10": {"D-2": 0.85, "D-10": 0.15},
    "G-1": {"G-1": 0.3, "E-9": 0.4, "D-2": 0.3},
}

# Sub-types (visa_categories.yaml); "" means none. Renewals of the same visa keep the sub-type.
SUBTYPES = {
    "D-2": {"D-2-1": 0.12, "D-2-2": 0.58, "D-2-3": 0.22, "D-2-4": 0.08},
    "E-7": {"E-7-1": 0.55, "E-7-2": 0.12, "E-7-3": 0.08, "E-7-4": 0.25},
    "F-2": {"F-2-R": 0.25, "": 0.75},
}

# Age on the reference date (min, mode, max; triangular) and share of women. Illustrative.
AGE = {
    "E-9": (21, 30, 45, 0.10), "D-2": (19, 24, 36, 0.50), "F-5": (28, 45, 75, 0.55),
    "F-6": (22, 34, 55, 0.82), "E-7": (25, 35, 58, 0.30), "F-4": (20, 45, 75, 0.48),
    "H-2": (28, 50, 66, 0.45), "D-4": (18, 23, 32, 0.50), "F-2": (25, 38, 60, 0.45),
    "E-8": (25, 40, 58, 0.25), "D-10": (22, 27, 35, 0.45), "G-1": (20, 35, 60, 0.40),
}  # fmt: skip

# Per status (illustrative): share ever enrolled in KIIP, share with reported employment,
# trips abroad per year of stay, and P(0, 1, 2, 3 moves of address).
BEHAVIOUR = {
    #        kiip  work  trips/yr moves
    "E-9": (0.04, 0.98, 0.08, (0.55, 0.35, 0.10, 0.00)),
    "D-2": (0.08, 0.18, 0.20, (0.40, 0.40, 0.15, 0.05)),
    "F-5": (0.25, 0.55, 0.12, (0.55, 0.30, 0.10, 0.05)),
    "F-6": (0.45, 0.40, 0.12, (0.55, 0.35, 0.10, 0.00)),
    "E-7": (0.15, 0.97, 0.15, (0.45, 0.40, 0.12, 0.03)),
    "F-4": (0.10, 0.55, 0.15, (0.55, 0.30, 0.10, 0.05)),
    "H-2": (0.06, 0.85, 0.08, (0.55, 0.35, 0.10, 0.00)),
    "D-4": (0.05, 0.04, 0.05, (0.70, 0.30, 0.00, 0.00)),
    "F-2": (0.40, 0.70, 0.12, (0.50, 0.35, 0.10, 0.05)),
    "E-8": (0.01, 0.95, 0.00, (1.00, 0.00, 0.00, 0.00)),
    "D-10": (0.12, 0.10, 0.10, (0.60, 0.40, 0.00, 0.00)),
    "G-1": (0.05, 0.15, 0.02, (0.70, 0.30, 0.00, 0.00)),
}
INTER_REGION_MOVE = 0.15  # illustrative: share of earlier addresses that lie in another region
EMPLOYER_IN_HOME_REGION = 0.88  # illustrative: employer in the region of residence
JOB_COUNT = (0.72, 0.22, 0.06)  # illustrative: P(1, 2, 3 employers) for people who work
KIIP_RECORDS = (0.5, 0.3, 0.2)  # illustrative: P(1, 2, 3 consecutive levels taken)
KIIP_START_LEVEL = (0.35, 0.30, 0.20, 0.10, 0.05)  # illustrative: placement at levels 0-4
KIIP_COMPLETION = 0.82  # illustrative: share of enrolments completed

# ---------------------------------------------------------------------------------------------
# Nationalities (ISO 3166-1 alpha-3), as % of foreign residents.
NATIONALITY_SHARES = {
    "CHN": 29.8, "VNM": 18.4, "NPL": 5.5, "UZB": 4.3, "KHM": 4.1,  # reported: Nov 2025
    # illustrative spread of the rest
    "THA": 5.0, "USA": 4.5, "PHL": 2.5, "IDN": 2.3, "MNG": 2.0, "RUS": 2.0, "KAZ": 1.5,
    "MMR": 1.6, "LKA": 1.2, "BGD": 0.8, "PAK": 0.6, "IND": 0.6, "JPN": 1.5,
}  # fmt: skip
# "Other" (100 minus the above) is spread over these by weight (illustrative).
OTHER_NATIONALITIES = {
    "KGZ": 1.6, "TWN": 1.3, "CAN": 1.1, "TJK": 0.7, "UKR": 0.7, "LAO": 0.7, "TLS": 0.6, "AUS": 0.6,
    "MYS": 0.5, "GBR": 0.5, "FRA": 0.4, "DEU": 0.4, "NGA": 0.3, "EGY": 0.2, "BRA": 0.2,
}  # fmt: skip

# How likely each nationality is to hold each status, before fitting both margins (iterative
# proportional fitting keeps the status mix and the nationality mix above exactly). Rows list
# their exceptions to `default`. Illustrative, after the rules of each scheme: E-9 only from the
# Employment Permit System partner countries; F-4 and H-2 only for ethnic Koreans abroad.
_EPS = ("PHL", "MNG", "LKA", "VNM", "THA", "UZB", "PAK", "IDN", "KHM", "CHN", "BGD", "KGZ", "NPL",
        "MMR", "TLS", "LAO", "TJK")  # fmt: skip
_KOREAN_DIASPORA = {"CHN": 6.0, "UZB": 3.0, "RUS": 3.0, "KAZ": 3.0, "KGZ": 2.0, "UKR": 1.5, "USA": 2.0,
                    "CAN": 1.5, "AUS": 1.0, "JPN": 0.5, "TJK": 0.5}  # fmt: skip
NATIONALITY_AFFINITY = {
    "E-9": {"default": 0.0, **dict.fromkeys(_EPS, 1.0), "NPL": 4.0, "KHM": 4.0, "VNM": 2.0, "IDN": 2.5,
            "MMR": 3.0, "LKA": 2.5, "BGD": 2.0, "CHN": 0.05, "THA": 1.5, "UZB": 1.5},
    "D-2": {"default": 0.3, "VNM": 4.0, "CHN": 2.5, "UZB": 2.0, "MNG": 2.5, "NPL": 1.5, "JPN": 1.0,
            "USA": 0.5, "IDN": 0.8, "BGD": 1.0, "PAK": 1.0, "IND": 1.0, "KHM": 0.1, "THA": 0.1},
    "F-5": {"default": 0.2, "CHN": 4.0, "VNM": 1.0, "PHL": 1.0, "JPN": 1.0, "USA": 0.8, "TWN": 2.0},
    "F-6": {"default": 0.2, "VNM": 3.0, "CHN": 1.5, "PHL": 1.5, "JPN": 1.2, "KHM": 1.5, "THA": 0.8,
            "USA": 0.3, "UZB": 0.8, "MNG": 0.8, "NPL": 0.1},
    "E-7": {"default": 0.3, "CHN": 1.2, "VNM": 1.0, "IND": 3.0, "USA": 1.5, "PHL": 1.2, "UZB": 1.0,
            "RUS": 1.0, "NPL": 0.6, "IDN": 0.8},
    "F-4": {"default": 0.0, **_KOREAN_DIASPORA},
    "H-2": {"default": 0.0, **_KOREAN_DIASPORA, "USA": 0.0, "CAN": 0.0, "AUS": 0.0, "JPN": 0.0},
    "D-4": {"default": 0.2, "VNM": 4.0, "CHN": 2.0, "UZB": 2.0, "MNG": 2.0, "NPL": 1.5, "JPN": 0.8},
    "F-2": {"default": 0.3, "CHN": 1.5, "VNM": 1.0, "USA": 0.8, "PHL": 0.8, "UZB": 1.0, "NPL": 0.6},
    "E-8": {"default": 0.0, "VNM": 2.0, "PHL": 2.0, "KHM": 1.0, "UZB": 1.0, "KGZ": 1.0, "LAO": 1.0,
            "MNG": 0.5, "THA": 0.5, "IDN": 0.5},
    "D-10": {"default": 0.3, "VNM": 2.0, "CHN": 1.5, "UZB": 1.5, "MNG": 1.5, "USA": 0.5},
    "G-1": {"default": 1.0},
    "illegal": {"default": 0.3, "THA": 6.0, "VNM": 1.5, "CHN": 0.8, "KAZ": 3.0, "MNG": 2.0, "RUS": 1.5,
                "KGZ": 2.0, "PHL": 1.0, "UZB": 1.0, "IDN": 0.8, "USA": 0.02, "JPN": 0.02, "CAN": 0.02,
                "AUS": 0.02, "GBR": 0.02, "FRA": 0.02, "DEU": 0.02, "TWN": 0.1},
}  # fmt: skip

# Romanised names are assembled from these pieces by nationality group (synthetic, vectorised).
NAME_GROUPS = {
    "sinitic": {
        "nations": ("CHN", "TWN"),
        "family": (
            "Wang",
            "Li",
            "Zhang",
            "Liu",
            "Chen",
            "Yang",
            "Zhao",
            "Huang",
            "Zhou",
            "Wu",
            "Xu",
            "Sun",
            "Jin",
            "Piao",
            "Cui",
            "Ma",
            "Zhu",
            "Hu",
            "Guo",
            "Lin",
        ),
        "given_a": ("Wei", "Fang", "Min", "Jing", "Hua", "Jun", "Yan", "Lei", "Xin", "Hao", "Yu", "Ting"),
        "given_b": ("qiang", "mei", "bo", "chen", "xiu", "ying", "zhi", "long", "na", "hui", "jie", "lin"),
        "sep": "",
        "family_first": True,
    },
    "vietnamese": {
        "nations": ("VNM",),
        "family": (
            "Nguyen",
            "Tran",
            "Le",
            "Pham",
            "Hoang",
            "Phan",
            "Vu",
            "Vo",
            "Dang",
            "Bui",
            "Do",
            "Ho",
            "Ngo",
            "Duong",
            "Ly",
        ),
        "given_a": ("Van", "Thi", "Duc", "Minh", "Thanh", "Ngoc", "Huu", "Quang", "Thu", "Hong"),
        "given_b": (
            "Anh",
            "Hung",
            "Lan",
            "Linh",
            "Tuan",
            "Trang",
            "Hoa",
            "Nam",
            "Dung",
            "Hai",
            "Phuong",
            "Long",
            "Mai",
            "Thao",
            "Khanh",
        ),
        "sep": " ",
        "family_first": True,
    },
    "mainland_sea": {
        "nations": ("KHM", "THA", "LAO", "MMR"),
        "family": (
            "Sok",
            "Chan",
            "Phan",
            "Srisuk",
            "Wongsa",
            "Chaiya",
            "Keo",
            "Aung",
            "Kyaw",
            "Htun",
            "Vong",
            "Sombat",
        ),
        "given_a": ("Sopha", "Dara", "Somchai", "Nari", "Thida", "Malai", "Zaw", "Sokha", "Kanya", "Vanna"),
        "given_b": ("", "rith", "wat", "pong", "lin", "ny", "phon", "mya"),
        "sep": "",
        "family_first": True,
    },
    "maritime_sea": {
        "nations": ("PHL", "IDN", "MYS", "TLS", "SGP"),
        "family": (
            "Santos",
            "Reyes",
            "Cruz",
            "Bautista",
            "Garcia",
            "Wijaya",
            "Saputra",
            "Hidayat",
            "Pratama",
            "Rahman",
            "Lim",
            "Soares",
        ),
        "given_a": ("Maria", "Jose", "Ana", "Mark", "Dewi", "Agus", "Budi", "Siti", "Rina", "Joel"),
        "given_b": ("", " Luz", " Angelo", " Putri", " Santi", " Ramon"),
        "sep": "",
        "family_first": False,
    },
    "south_asian": {
        "nations": ("NPL", "LKA", "BGD", "PAK", "IND"),
        "family": (
            "Gurung",
            "Tamang",
            "Rai",
            "Shrestha",
            "Thapa",
            "Magar",
            "Perera",
            "Silva",
            "Fernando",
            "Hossain",
            "Khan",
            "Ali",
            "Sharma",
            "Singh",
            "Kumar",
            "Patel",
        ),
        "given_a": (
            "Ram",
            "Hari",
            "Sita",
            "Bikash",
            "Suman",
            "Nuwan",
            "Kasun",
            "Arif",
            "Rafiq",
            "Imran",
            "Priya",
            "Anil",
            "Raj",
            "Deepak",
            "Asha",
        ),
        "given_b": ("", " Bahadur", " Kumar", " Kumari", " Prasad", " Lal"),
        "sep": "",
        "family_first": False,
    },
    "central_asian": {
        "nations": ("UZB", "KAZ", "KGZ", "TJK", "RUS", "UKR"),
        "family": (
            "Karimov",
            "Rahimova",
            "Tashkentov",
            "Nazarov",
            "Ivanov",
            "Petrova",
            "Kim",
            "Tsoi",
            "Pak",
            "Li",
            "Abdullaev",
            "Yusupova",
            "Sultanov",
            "Kovalenko",
        ),
        "given_a": (
            "Aziz",
            "Dilnoza",
            "Rustam",
            "Madina",
            "Timur",
            "Olga",
            "Sergei",
            "Aigerim",
            "Bakyt",
            "Nodira",
            "Elena",
            "Dmitri",
        ),
        "given_b": ("",),
        "sep": "",
        "family_first": False,
    },
    "mongolian": {
        "nations": ("MNG",),
        "family": ("Bat", "Gan", "Enkh", "Bold", "Tsend", "Munkh", "Sukh", "Oyun"),
        "given_a": ("Erdene", "Tulga", "Bayar", "Zaya", "Saikhan", "Naran", "Tuya", "Ochir"),
        "given_b": ("", "bat", "jargal", "suren"),
        "sep": "",
        "family_first": True,
    },
    "japanese": {
        "nations": ("JPN",),
        "family": (
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Kato",
        ),
        "given_a": ("Yu", "Haru", "Aki", "Mina", "Sho", "Ken", "Nao", "Riko", "Dai", "Emi"),
        "given_b": ("ki", "ta", "ko", "to", "mi", "ka", "suke", "na"),
        "sep": "",
        "family_first": True,
    },
    "other": {
        "nations": (),  # everyone not listed above
        "family": (
            "Smith",
            "Johnson",
            "Brown",
            "Miller",
            "Wilson",
            "Martin",
            "Taylor",
            "Silva",
            "Muller",
            "Dubois",
            "Okafor",
            "Hassan",
            "Chen",
            "Nguyen",
        ),
        "given_a": (
            "James",
            "Emma",
            "Olivia",
            "Lucas",
            "Sophie",
            "Daniel",
            "Grace",
            "Noah",
            "Chloe",
            "Samuel",
            "Amara",
            "Omar",
        ),
        "given_b": ("",),
        "sep": "",
        "family_first": False,
    },
}

# ---------------------------------------------------------------------------------------------
# Regions (2-digit codes of regions.csv). Residents are spread by `foreign_residents_2024`.
#   illegal: relative illegal-stay propensity (scaled so the nation stays at ILLEGAL_SHARE);
#            farming and fishing provinces and Jeju (visa-free entry) run higher. Illustrative.
#   kiip:    relative KIIP uptake among ordinary residents. Illustrative.
#   districts: number of district (시군구) codes the generator uses for the region, after the
#            real count. The codes themselves are synthetic (RR + 3 digits), not the official list.
REGION_PROFILE = {
    "11": {"illegal": 0.75, "kiip": 1.10, "districts": 25},
    "26": {"illegal": 0.90, "kiip": 1.00, "districts": 16},
    "27": {"illegal": 0.95, "kiip": 1.05, "districts": 9},
    "28": {"illegal": 1.00, "kiip": 0.90, "districts": 10},
    "29": {"illegal": 0.85, "kiip": 1.30, "districts": 5},
    "30": {"illegal": 0.80, "kiip": 1.00, "districts": 5},
    "31": {"illegal": 1.00, "kiip": 1.15, "districts": 5},
    "36": {"illegal": 0.60, "kiip": 1.20, "districts": 1},
    "41": {"illegal": 1.00, "kiip": 0.85, "districts": 31},
    "43": {"illegal": 1.10, "kiip": 1.20, "districts": 11},
    "44": {"illegal": 1.20, "kiip": 1.00, "districts": 15},
    "46": {"illegal": 1.35, "kiip": 0.80, "districts": 22},
    "47": {"illegal": 1.25, "kiip": 0.90, "districts": 22},
    "48": {"illegal": 1.15, "kiip": 1.00, "districts": 18},
    "50": {"illegal": 1.50, "kiip": 0.70, "districts": 2},
    "51": {"illegal": 1.10, "kiip": 0.85, "districts": 18},
    "52": {"illegal": 1.10, "kiip": 0.95, "districts": 14},
}
CAPITAL_REGION = ("11", "28", "41")  # where programme holders who move away mostly go

# ---------------------------------------------------------------------------------------------
# The 2025 pilot (regions/data/pilot_2025.csv): behaviour of programme holders by region.
#   fill:     holders = round(quota x fill). Gwangju's 95% (57 of 60) is reported; the others
#             are illustrative, spread from 41% to 100%.
#   kiip:     share of holders who enrol in KIIP within 11 months of the grant. Illustrative.
#   move_out: share of holders whose address moves out of the programme region for good a few
#             months after the grant (a residence-obligation breach). Illustrative.
#   overstay: share of holders whose grant expired without renewal and who stayed. Illustrative.
PILOT_REGION_BEHAVIOUR = {
    #      fill   kiip  move_out overstay
    "26": (0.78, 0.55, 0.08, 0.03),  # Busan
    "43": (0.88, 0.70, 0.05, 0.02),  # Chungbuk
    "51": (0.62, 0.35, 0.22, 0.06),  # Gangwon
    "52": (0.71, 0.45, 0.15, 0.05),  # Jeonbuk
    "44": (0.84, 0.60, 0.10, 0.04),  # Chungnam
    "28": (1.00, 0.40, 0.12, 0.02),  # Incheon
    "29": (0.95, 0.80, 0.04, 0.01),  # Gwangju: fill reported (57 of 60)
    "30": (0.55, 0.50, 0.18, 0.03),  # Daejeon
    "46": (0.47, 0.30, 0.25, 0.09),  # Jeonnam
    "47": (0.66, 0.42, 0.14, 0.07),  # Gyeongbuk (both designs)
    "41": (0.92, 0.38, 0.06, 0.02),  # Gyeonggi
    "27": (0.41, 0.65, 0.09, 0.02),  # Daegu
    "48": (0.97, 0.58, 0.07, 0.05),  # Gyeongnam
    "31": (0.89, 0.72, 0.05, 0.03),  # Ulsan
}
# Sub-types per design: D-2 designs are full-time degrees; E-7 designs as reported (Gyeonggi and
# Gyeongbuk E-7-1 plus care workers (E-7-2), Daegu E-7-1 only, shipbuilding trades E-7-3).
PILOT_SUBTYPES = {
    "D-2": {"D-2-1": 0.10, "D-2-2": 0.68, "D-2-3": 0.17, "D-2-4": 0.05},
    "gyeonggi-e7": {"E-7-1": 0.85, "E-7-2": 0.15},
    "gyeongbuk-e7": {"E-7-1": 0.80, "E-7-2": 0.20},
    "daegu-e7": {"E-7-1": 1.0},
    "gyeongnam-e7": {"E-7-3": 1.0},
    "ulsan-e7": {"E-7-3": 1.0},
}
PILOT_GRANT_DAYS = {"incheon-d2": 730}  # reported: Incheon allows 2 years per grant; others 1 year
# Holders who changed status inside Korea rather than arriving for the programme (illustrative).
PILOT_CONVERSION = {"D-2": (0.45, {"D-4": 0.6, "D-2": 0.4}), "E-7": (0.40, {"D-2": 0.5, "D-10": 0.2, "E-9": 0.3})}
PILOT_MAX_SHARE = 0.20  # holders never exceed this share of residents (tiny test datasets scale down)

# Ports of entry and exit (IATA airport codes and UN/LOCODE sea ports), by weight. Illustrative.
PORTS = {"ICN": 0.78, "GMP": 0.04, "PUS": 0.08, "CJU": 0.03, "TAE": 0.01, "CJJ": 0.01, "MWX": 0.01,
         "KRPUS": 0.02, "KRINC": 0.01, "KRPTK": 0.01}  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Employment conditions (issue 19). Wages and occupations of reported jobs, and the
# subcontracting structure of the regions with an E-7 design: a few large prime employers and
# many contractor employers whose staff are mostly programme E-7 holders (unions in Ulsan report
# contractor migrant workers rising from 3,133 in 2020 to 10,418 in September 2025, mostly E-7-3).
# Median monthly wage by status, in KRW (illustrative; the 2025 minimum wage is about 2.1 M a
# month for full-time work), and the spread (sigma of the log).
WAGE_MONTHLY_MEDIAN = {
    "E-9": 2_450_000, "D-2": 900_000, "F-5": 3_000_000, "F-6": 2_400_000, "E-7": 3_600_000,
    "F-4": 2_800_000, "H-2": 2_350_000, "D-4": 800_000, "F-2": 2_900_000, "E-8": 2_200_000,
    "D-10": 1_500_000, "G-1": 1_700_000,
}  # fmt: skip
WAGE_SIGMA = 0.22
# Programme holders' annual wage as a multiple of their design's floor, log-normal (median,
# sigma): at prime and other employers about one in ten falls below the floor (illustrative).
HOLDER_WAGE_OVER_FLOOR = (1.22, 0.15)
# Contractors pay about 2.2 M KRW a month (the figure questioned on 10 February 2026), so a good
# share fall just below a 26 M KRW floor (monthly median and sigma of the log; illustrative).
CONTRACTOR_MONTHLY_WAGE = (2_250_000, 0.06)
# Floors of the E-7 designs (policy/programs/*: annual_wage_floor_krw), else the national E-7
# floor (80 % of GNI per capita, 49.9 M KRW in 2025).
PILOT_WAGE_FLOOR = {"ulsan-e7": 26_000_000, "gyeonggi-e7": 26_000_000, "gyeongnam-e7": 26_000_000}
E7_NATIONAL_FLOOR = 39_920_000
# The designs' occupation lists (policy/programs/*: occupations), the national E-7 codes other
# E-7 holders report, and codes off every list that some holders report (illustrative: simple
# labour and assembly work).
PILOT_OCCUPATIONS = {
    "ulsan-e7": ("7430", "7521", "7621", "7624"),
    "gyeongnam-e7": ("7430", "7521", "7621"),
    "gyeonggi-e7": ("2211", "2212", "2221", "2222", "2223", "2233", "2341", "2342", "2352", "2364", "2373",
                    "42111"),
    "daegu-e7": ("2341", "2342", "2351", "2353", "2373"),
    "gyeongbuk-e7": ("1120", "2211", "2221", "2341", "2351", "2353", "2361", "2371", "2373", "2391", "3922"),
}  # fmt: skip
E7_OCCUPATIONS = ("1120", "2211", "2221", "2223", "2341", "2351", "2353", "2371", "2391", "2395")
OFF_LIST_OCCUPATIONS = ("9111", "9211", "8419")
HOLDER_OFF_LIST = 0.06  # illustrative: holders whose reported occupation is off their design's list
# Subcontracting: of the holders' jobs in their programme region, the share at a contractor and
# the share at a prime employer (the rest at other employers); holders per contractor (mean);
# prime employers per region; other staff per contractor (mean, E-9 and E-7 workers of the
# region); and the share of the region's other workers employed directly by a prime.
CONTRACTOR_SHARE = 0.55
PRIME_SHARE = 0.15
CONTRACTOR_HOLDERS = 9
PRIMES_PER_REGION = 3
CONTRACTOR_OTHER_STAFF = 3
PRIME_DIRECT_SHARE = 0.05
