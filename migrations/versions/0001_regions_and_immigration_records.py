"""regions and immigration records

Revision ID: 0001
Revises:
Create Date: 2026-11-22 21:42:06.062500
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("passport_no", sa.String(length=32), nullable=False),
        sa.CheckConstraint("sex IN ('F', 'M', 'X')", name=op.f("ck_person_sex")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_nationality"), ["nationality"], unique=False)

    op.create_table(
        "region",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("iso_3166_2", sa.String(length=8), nullable=False),
        sa.Column("name_ko", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("population_2024", sa.Integer(), nullable=False),
        sa.Column("foreign_residents_2024", sa.Integer(), nullable=False),
        sa.Column("foreign_residents_is_estimate", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region")),
        sa.UniqueConstraint("slug", name=op.f("uq_region_slug")),
    )
    op.create_table(
        "address_report",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=5), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("reported_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_address_report_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_report")),
        sa.UniqueConstraint("person_id", "effective_date", name=op.f("uq_address_report_person_id_effective_date")),
    )
    with op.batch_alter_table("address_report", schema=None) as batch_op:
        batch_op.create_index("ix_address_report_area", ["area_code", "effective_date"], unique=False)

    op.create_table(
        "employment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("employer_id", sa.String(length=32), nullable=False),
        sa.Column("employer_region", sa.String(length=2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_employment_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employment")),
        sa.UniqueConstraint(
            "person_id", "employer_id", "start_date", name=op.f("uq_employment_person_id_employer_id_start_date")
        ),
    )
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.create_index("ix_employment_region", ["employer_region", "start_date"], unique=False)

    op.create_table(
        "kiip_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.CheckConstraint("level BETWEEN 0 AND 5", name=op.f("ck_kiip_record_level")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_kiip_record_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiip_record")),
        sa.UniqueConstraint(
            "person_id", "level", "enrolled_on", name=op.f("uq_kiip_record_person_id_level_enrolled_on")
        ),
    )
    with op.batch_alter_table("kiip_record", schema=None) as batch_op:
        batch_op.create_index("ix_kiip_record_enrolled", ["enrolled_on"], unique=False)

    op.create_table(
        "movement",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("port", sa.String(length=32), nullable=False),
        sa.CheckConstraint("direction IN ('entry', 'exit')", name=op.f("ck_movement_direction")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_movement_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movement")),
        sa.UniqueConstraint("person_id", "direction", "date", name=op.f("uq_movement_person_id_direction_date")),
    )
    with op.batch_alter_table("movement", schema=None) as batch_op:
        batch_op.create_index("ix_movement_date", ["date"], unique=False)

    op.create_table(
        "status_grant",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("visa", sa.String(length=8), nullable=False),
        sa.Column("subtype", sa.String(length=16), nullable=True),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.CheckConstraint("valid_to >= valid_from", name=op.f("ck_status_grant_valid_range")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.person_id"], name=op.f("fk_status_grant_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_grant")),
        sa.UniqueConstraint("person_id", "visa", "valid_from", name=op.f("uq_status_grant_person_id_visa_valid_from")),
    )
    with op.batch_alter_table("status_grant", schema=None) as batch_op:
        batch_op.create_index("ix_status_grant_program", ["program_id"], unique=False)
        batch_op.create_index("ix_status_grant_region_valid", ["region", "valid_from", "valid_to"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_status_grant_region_valid")
        batch_op.drop_index("ix_status_grant_program")

    op.drop_table("status_grant")
    with op.batch_alter_table("movement", schema=None) as batch_op:
        batch_op.drop_index("ix_movement_date")

    op.drop_table("movement")
    with op.batch_alter_table("kiip_record", schema=None) as batch_op:
        batch_op.drop_index("ix_kiip_record_enrolled")

    op.drop_table("kiip_record")
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_index("ix_employment_region")

    op.drop_table("employment")
    with op.batch_alter_table("address_report", schema=None) as batch_op:
        batch_op.drop_index("ix_address_report_area")

    op.drop_table("address_report")
    op.drop_table("region")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_nationality"))

    op.drop_table("person")
