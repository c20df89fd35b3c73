"""An eligible busan-d2 applicant profile, for the tests outside tests/applications that submit one."""

PROFILE = {
    "nationality": "VNM",
    "birth_date": "2001-03-04",
    "passport_valid_until": "2030-01-01",
    "entry_ban": False,
    "criminal_record": False,
    "prior_illegal_stay": False,
    "course_type": "degree",
    "bank_balance_krw": 9_000_000,
    "university_region": "26",
    "topik_level": 4,
    "kiip_level": 1,
    "education_level": "high_school",
}
