"""The databases of the shipped Spider-format sample: schemas and deterministic rows.

Each table: (name, [(column, sqlite type, spider type)], primary key column, [(column, ref table, ref column)]).
Rows come from a seeded generator, so every build produces byte-identical databases.
"""

from __future__ import annotations

import random

TRAIN_DBS = ("bookshop", "school", "hospital")
DEV_DBS = ("airline", "orchestra")

SCHEMAS = {
    "bookshop": [
        (
            "author",
            [
                ("author_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("country", "TEXT", "text"),
                ("birth_year", "INTEGER", "number"),
            ],
            "author_id",
            [],
        ),
        (
            "book",
            [
                ("book_id", "INTEGER", "number"),
                ("title", "TEXT", "text"),
                ("author_id", "INTEGER", "number"),
                ("genre", "TEXT", "text"),
                ("year", "INTEGER", "number"),
                ("price", "REAL", "number"),
                ("pages", "INTEGER", "number"),
            ],
            "book_id",
            [("author_id", "author", "author_id")],
        ),
        (
            "sale",
            [
                ("sale_id", "INTEGER", "number"),
                ("book_id", "INTEGER", "number"),
                ("store", "TEXT", "text"),
                ("quantity", "INTEGER", "number"),
            ],
            "sale_id",
            [("book_id", "book", "book_id")],
        ),
    ],
    "school": [
        (
            "teacher",
            [
                ("teacher_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("subject", "TEXT", "text"),
                ("salary", "INTEGER", "number"),
            ],
            "teacher_id",
            [],
        ),
        (
            "student",
            [
                ("student_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("city", "TEXT", "text"),
                ("age", "INTEGER", "number"),
            ],
            "student_id",
            [],
        ),
        (
            "course",
            [
                ("course_id", "INTEGER", "number"),
                ("title", "TEXT", "text"),
                ("teacher_id", "INTEGER", "number"),
                ("credits", "INTEGER", "number"),
            ],
            "course_id",
            [("teacher_id", "teacher", "teacher_id")],
        ),
        (
            "enrollment",
            [
                ("enrollment_id", "INTEGER", "number"),
                ("student_id", "INTEGER", "number"),
                ("course_id", "INTEGER", "number"),
                ("score", "INTEGER", "number"),
            ],
            "enrollment_id",
            [("student_id", "student", "student_id"), ("course_id", "course", "course_id")],
        ),
    ],
    "hospital": [
        (
            "doctor",
            [
                ("doctor_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("specialty", "TEXT", "text"),
                ("years_experience", "INTEGER", "number"),
            ],
            "doctor_id",
            [],
        ),
        (
            "patient",
            [
                ("patient_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("city", "TEXT", "text"),
                ("age", "INTEGER", "number"),
            ],
            "patient_id",
            [],
        ),
        (
            "visit",
            [
                ("visit_id", "INTEGER", "number"),
                ("patient_id", "INTEGER", "number"),
                ("doctor_id", "INTEGER", "number"),
                ("cost", "REAL", "number"),
                ("ward", "TEXT", "text"),
            ],
            "visit_id",
            [("patient_id", "patient", "patient_id"), ("doctor_id", "doctor", "doctor_id")],
        ),
    ],
    "airline": [
        (
            "airport",
            [
                ("airport_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("country", "TEXT", "text"),
                ("elevation", "INTEGER", "number"),
            ],
            "airport_id",
            [],
        ),
        (
            "aircraft",
            [
                ("aircraft_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("maker", "TEXT", "text"),
                ("seats", "INTEGER", "number"),
            ],
            "aircraft_id",
            [],
        ),
        (
            "flight",
            [
                ("flight_id", "INTEGER", "number"),
                ("origin_id", "INTEGER", "number"),
                ("aircraft_id", "INTEGER", "number"),
                ("distance", "INTEGER", "number"),
                ("price", "REAL", "number"),
            ],
            "flight_id",
            [("origin_id", "airport", "airport_id"), ("aircraft_id", "aircraft", "aircraft_id")],
        ),
    ],
    "orchestra": [
        (
            "musician",
            [
                ("musician_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("instrument", "TEXT", "text"),
                ("age", "INTEGER", "number"),
            ],
            "musician_id",
            [],
        ),
        (
            "concert",
            [
                ("concert_id", "INTEGER", "number"),
                ("name", "TEXT", "text"),
                ("venue", "TEXT", "text"),
                ("attendance", "INTEGER", "number"),
            ],
            "concert_id",
            [],
        ),
        (
            "performance",
            [
                ("performance_id", "INTEGER", "number"),
                ("musician_id", "INTEGER", "number"),
                ("concert_id", "INTEGER", "number"),
                ("fee", "REAL", "number"),
            ],
            "performance_id",
            [("musician_id", "musician", "musician_id"), ("concert_id", "concert", "concert_id")],
        ),
    ],
}

_NAMES = [
    "Ada",
    "Bela",
    "Chen",
    "Dara",
    "Emil",
    "Fatima",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kira",
    "Lars",
    "Mina",
    "Nils",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tove",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
]
_SURNAMES = ["Berg", "Costa", "Diaz", "Eke", "Frost", "Gupta", "Holm", "Ito", "Jensen", "Kahn", "Lund", "Moreau"]
# Category values per (table, column); the question templates pick their constants from these lists.
CATEGORIES = {
    ("author", "country"): ["France", "Japan", "Brazil", "Canada", "Kenya"],
    ("book", "genre"): ["Mystery", "Poetry", "History", "Science", "Fantasy"],
    ("sale", "store"): ["Downtown", "Airport", "Harbor", "Campus"],
    ("teacher", "subject"): ["Math", "Biology", "Music", "Art", "Physics"],
    ("student", "city"): ["Oslo", "Lima", "Pune", "Graz", "Perth"],
    ("doctor", "specialty"): ["Cardiology", "Oncology", "Pediatrics", "Neurology"],
    ("patient", "city"): ["Lyon", "Porto", "Turin", "Ghent", "Bergen"],
    ("visit", "ward"): ["North", "South", "East", "West"],
    ("airport", "country"): ["Chile", "Norway", "Egypt", "India", "Peru"],
    ("aircraft", "maker"): ["Airbus", "Boeing", "Embraer", "Bombardier"],
    ("musician", "instrument"): ["Violin", "Cello", "Flute", "Oboe", "Harp"],
    ("concert", "venue"): ["Grand Hall", "Opera House", "City Park", "Cathedral"],
}
_ROW_COUNTS = {
    "author": 12,
    "book": 30,
    "sale": 60,
    "teacher": 10,
    "student": 25,
    "course": 14,
    "enrollment": 70,
    "doctor": 9,
    "patient": 24,
    "visit": 60,
    "airport": 12,
    "aircraft": 8,
    "flight": 50,
    "musician": 16,
    "concert": 10,
    "performance": 45,
}
_NUMBER_RANGES = {
    "birth_year": (1930, 1995),
    "year": (1950, 2023),
    "price": (5, 80),
    "pages": (90, 900),
    "quantity": (1, 20),
    "salary": (30000, 90000),
    "age": (16, 85),
    "credits": (1, 6),
    "score": (40, 100),
    "years_experience": (1, 40),
    "cost": (50, 2500),
    "elevation": (0, 3000),
    "seats": (50, 400),
    "distance": (200, 9000),
    "attendance": (150, 5000),
    "fee": (100, 3000),
}


def _value(rng: random.Random, table: str, column: str, sqlite_type: str, row_id: int, titles: list[str]):
    if (table, column) in CATEGORIES:
        return rng.choice(CATEGORIES[(table, column)])
    if column == "name":
        return f"{_NAMES[row_id % len(_NAMES)]} {_SURNAMES[(row_id * 7) % len(_SURNAMES)]}"
    if column == "title":
        return f"{rng.choice(titles)} {row_id}"
    low, high = _NUMBER_RANGES[column]
    return round(rng.uniform(low, high), 2) if sqlite_type == "REAL" else rng.randint(low, high)


def rows_for(db_id: str) -> dict[str, list[tuple]]:
    rng = random.Random(f"sample-{db_id}")
    titles = ["The Quiet River", "Stars Above", "Old Roads", "Paper Moons", "Iron Gardens", "Northern Lights"]
    tables, out = SCHEMAS[db_id], {}
    for name, columns, primary, foreign in tables:
        refs = {col: (ref, ref_col) for col, ref, ref_col in foreign}
        rows = []
        for row_id in range(1, _ROW_COUNTS[name] + 1):
            row = []
            for column, sqlite_type, _ in columns:
                if column == primary:
                    row.append(row_id)
                elif column in refs:
                    # Leave the last two referenced rows unused, so "never referenced" questions have answers.
                    row.append(rng.randint(1, _ROW_COUNTS[refs[column][0]] - 2))
                else:
                    row.append(_value(rng, name, column, sqlite_type, row_id, titles))
            rows.append(tuple(row))
        out[name] = rows
    return out
