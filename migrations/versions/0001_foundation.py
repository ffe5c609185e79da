"""Foundation: units and departments, accounts and sessions, children, the institution registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Besides the tables this creates the extensions the app needs (cube + earthdistance for nearby
search, btree_gist for exclusion constraints), the trigger that enforces the rules for home-based
points and kindergarten nursery classes, and the reference data: Daqing's ten units and the
departments the city plan names.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


POPULATION_NOTE = "approximate; total ≈ 2.78 million (2020 census) / 近似值，全市约278万人（2020年人口普查）"

# National division codes (GB/T 2260; 230671 for the High-tech Zone as statistical releases give it).
# Populations are approximate and centres are approximate WGS-84 points (see DOMAIN.md).
UNITS = [
    (230602, "萨尔图区", "Saertu District", "district", 520_000, 46.63, 125.11, 1),
    (230604, "让胡路区", "Ranghulu District", "district", 500_000, 46.65, 124.87, 2),
    (230603, "龙凤区", "Longfeng District", "district", 380_000, 46.56, 125.14, 3),
    (230605, "红岗区", "Honggang District", "district", 165_000, 46.40, 124.89, 4),
    (230606, "大同区", "Datong District", "district", 190_000, 46.04, 124.82, 5),
    (230671, "高新区", "High-tech Zone", "zone", 140_000, 46.58, 125.20, 6),
    (230621, "肇州县", "Zhaozhou County", "county", 280_000, 45.70, 125.27, 7),
    (230622, "肇源县", "Zhaoyuan County", "county", 290_000, 45.52, 125.08, 8),
    (230623, "林甸县", "Lindian County", "county", 160_000, 47.19, 124.86, 9),
    (230624, "杜尔伯特蒙古族自治县", "Durbat Mongol Autonomous County", "county", 155_000, 46.87, 124.44, 10),
]

CITY_DEPARTMENTS = [
    ("health", "大庆市卫生健康委员会", "市卫健委", "Municipal Health Commission"),
    ("market", "大庆市市场监督管理局", "市市场监管局", "Municipal Market Regulation Administration"),
    ("police", "大庆市公安局", "市公安局", "Municipal Public Security Bureau"),
    ("fire", "大庆市消防救援支队", "市消防救援支队", "Municipal Fire and Rescue Detachment"),
    ("ndrc", "大庆市发展和改革委员会", "市发改委", "Municipal Development and Reform Commission"),
    ("civil_affairs", "大庆市民政局", "市民政局", "Municipal Civil Affairs Bureau"),
    ("staffing", "中共大庆市委机构编制委员会办公室", "市委编办", "Municipal Commission Office for Public Sector Reform"),
    ("hrss", "大庆市人力资源和社会保障局", "市人社局", "Municipal Human Resources and Social Security Bureau"),
    ("education", "大庆市教育局", "市教育局", "Municipal Education Bureau"),
    ("trade_union", "大庆市总工会", "市总工会", "Municipal Federation of Trade Unions"),
]

CLASS_RULES_FUNCTION = """
CREATE FUNCTION classes_institution_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    home_based boolean;
    kindergarten boolean;
    others integer;
BEGIN
    -- Lock the institution: concurrent class changes of one institution are checked one at a time.
    SELECT is_home_based, is_kindergarten_class INTO home_based, kindergarten
    FROM institutions WHERE id = NEW.institution_id FOR UPDATE;
    IF kindergarten AND NEW.class_type <> 'older_toddler' THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE =
            'rule:kindergarten_class_type|A kindergarten nursery class takes 2-3-year-olds only: use older_toddler'
            || '|幼儿园托班只招收2至3岁幼儿，班级类型须为托大班';
    END IF;
    IF home_based THEN
        IF NEW.capacity > NEW.carers * 3 THEN
            RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE =
                'rule:home_based_ratio|A home-based point needs 1 carer per 3 children'
                || '|家庭托育点每3名婴幼儿须配备1名照护人员';
        END IF;
        SELECT coalesce(sum(capacity), 0) INTO others
        FROM classes WHERE institution_id = NEW.institution_id AND id <> NEW.id;
        IF others + NEW.capacity > 5 THEN
            RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE =
                'rule:home_based_cap|A home-based point may care for at most 5 children in all'
                || '|家庭托育点收托总人数不得超过5人';
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""

CLASS_RULES_TRIGGER = """
CREATE TRIGGER classes_institution_rules
BEFORE INSERT OR UPDATE OF capacity, carers, class_type, institution_id ON classes
FOR EACH ROW EXECUTE FUNCTION classes_institution_rules()
"""

# Turning an institution into a home-based point or a kindergarten class re-checks its classes.
KIND_RULES_FUNCTION = """
CREATE FUNCTION institutions_kind_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.is_kindergarten_class AND EXISTS (
        SELECT 1 FROM classes WHERE institution_id = NEW.id AND class_type <> 'older_toddler') THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE =
            'rule:kindergarten_class_type|A kindergarten nursery class takes 2-3-year-olds only: use older_toddler'
            || '|幼儿园托班只招收2至3岁幼儿，班级类型须为托大班';
    END IF;
    IF NEW.is_home_based AND (
        (SELECT coalesce(sum(capacity), 0) FROM classes WHERE institution_id = NEW.id) > 5
        OR EXISTS (SELECT 1 FROM classes WHERE institution_id = NEW.id AND capacity > carers * 3)) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE =
            'rule:home_based_cap|A home-based point may care for at most 5 children in all, 1 carer per 3'
            || '|家庭托育点收托总人数不得超过5人，且每3名婴幼儿须配备1名照护人员';
    END IF;
    RETURN NEW;
END
$$
"""

KIND_RULES_TRIGGER = """
CREATE TRIGGER institutions_kind_rules
AFTER UPDATE OF is_home_based, is_kindergarten_class ON institutions
FOR EACH ROW EXECUTE FUNCTION institutions_kind_rules()
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS cube")
    op.execute("CREATE EXTENSION IF NOT EXISTS earthdistance")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('accounts',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('display_name', sa.String(length=40), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("email = lower(email) AND position('@' in email) > 1", name=op.f('ck_accounts_email_format')),
    sa.CheckConstraint("phone ~ '^1[3-9][0-9]{9}$'", name=op.f('ck_accounts_phone_format')),
    sa.CheckConstraint('phone IS NOT NULL OR email IS NOT NULL', name=op.f('ck_accounts_has_login')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email')),
    sa.UniqueConstraint('phone', name=op.f('uq_accounts_phone'))
    )
    op.create_table('children',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('length(btrim(name)) > 0', name=op.f('ck_children_name_not_blank')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    op.create_table('otp_codes',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_otp_codes_attempts_nonnegative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otp_codes'))
    )
    op.create_index('ix_otp_codes_phone_created_at', 'otp_codes', ['phone', 'created_at'], unique=False)
    op.create_table('rate_limit_counters',
    sa.Column('key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_seconds', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', 'window_start', name=op.f('pk_rate_limit_counters'))
    )
    op.create_table('units',
    sa.Column('code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('population_note', sa.String(length=200), nullable=False),
    sa.Column('center_lat', sa.Double(), nullable=False),
    sa.Column('center_lng', sa.Double(), nullable=False),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('district', 'county', 'zone')", name=op.f('ck_units_kind')),
    sa.CheckConstraint('population > 0', name=op.f('ck_units_population_positive')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_units')),
    sa.UniqueConstraint('name_zh', name=op.f('uq_units_name_zh'))
    )
    op.create_table('auth_sessions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_auth_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_sessions_token_hash'))
    )
    op.create_index('ix_auth_sessions_account_id', 'auth_sessions', ['account_id'], unique=False)
    op.create_table('departments',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=80), nullable=False),
    sa.Column('short_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('unit_code', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'unit_government') = (unit_code IS NOT NULL)", name=op.f('ck_departments_government_has_unit')),
    sa.CheckConstraint("kind IN ('city_department', 'unit_government')", name=op.f('ck_departments_kind')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_departments_unit_code_units')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departments')),
    sa.UniqueConstraint('name_zh', name=op.f('uq_departments_name_zh')),
    sa.UniqueConstraint('unit_code', name=op.f('uq_departments_unit_code'))
    )
    op.create_table('guardianships',
    sa.Column('child_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("relation IN ('mother', 'father', 'grandparent', 'other')", name=op.f('ck_guardianships_relation')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_guardianships_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_guardianships_child_id_children'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('child_id', 'account_id', name=op.f('pk_guardianships'))
    )
    op.create_index('ix_guardianships_account_id', 'guardianships', ['account_id'], unique=False)
    op.create_table('institutions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('legal_form', sa.String(length=24), nullable=False),
    sa.Column('registration_no', sa.String(length=18), nullable=False),
    sa.Column('filing_status', sa.String(length=16), server_default=sa.text("'unfiled'"), nullable=False),
    sa.Column('unit_code', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lng', sa.Double(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('opening_hours', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('description', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('ownership', sa.String(length=8), nullable=False),
    sa.Column('is_inclusive', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_demonstration', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_employer_run', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_community_run', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_kindergarten_class', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_home_based', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_demo', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("filing_status IN ('unfiled', 'submitted', 'filed', 'returned')", name=op.f('ck_institutions_filing_status')),
    sa.CheckConstraint("jsonb_typeof(opening_hours) = 'array'", name=op.f('ck_institutions_opening_hours_array')),
    sa.CheckConstraint("legal_form IN ('public_institution', 'social_organisation', 'for_profit')", name=op.f('ck_institutions_legal_form')),
    sa.CheckConstraint("ownership IN ('public', 'private')", name=op.f('ck_institutions_ownership')),
    sa.CheckConstraint("registration_no ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'", name=op.f('ck_institutions_registration_no_format')),
    sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180', name=op.f('ck_institutions_wgs84_range')),
    sa.CheckConstraint('length(btrim(name)) > 0', name=op.f('ck_institutions_name_not_blank')),
    sa.CheckConstraint('NOT (is_home_based AND is_kindergarten_class)', name=op.f('ck_institutions_one_kind')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_institutions_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('registration_no', name=op.f('uq_institutions_registration_no'))
    )
    op.create_index('ix_institutions_earth', 'institutions', [sa.literal_column('ll_to_earth(lat, lng)')], unique=False, postgresql_using='gist')
    op.create_index('ix_institutions_unit_code', 'institutions', ['unit_code'], unique=False)
    op.create_table('classes',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('class_type', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.SmallInteger(), nullable=False),
    sa.Column('carers', sa.SmallInteger(), nullable=False),
    sa.Column('enrolled_count', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("capacity <= CASE class_type WHEN 'infant' THEN 10 WHEN 'toddler' THEN 15 WHEN 'older_toddler' THEN 20 WHEN 'mixed' THEN 18 END", name=op.f('ck_classes_class_cap')),
    sa.CheckConstraint("capacity <= carers * CASE class_type WHEN 'infant' THEN 3 WHEN 'toddler' THEN 5 WHEN 'older_toddler' THEN 7 WHEN 'mixed' THEN 5 END", name=op.f('ck_classes_carer_ratio')),
    sa.CheckConstraint("class_type IN ('infant', 'toddler', 'older_toddler', 'mixed')", name=op.f('ck_classes_class_type')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_classes_capacity_positive')),
    sa.CheckConstraint('carers >= 0', name=op.f('ck_classes_carers_nonnegative')),
    sa.CheckConstraint('enrolled_count BETWEEN 0 AND capacity', name=op.f('ck_classes_enrolled_within_capacity')),
    sa.CheckConstraint('length(btrim(name)) > 0', name=op.f('ck_classes_name_not_blank')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_classes_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classes')),
    sa.UniqueConstraint('institution_id', 'name', name=op.f('uq_classes_institution_id_name'))
    )
    op.create_table('institution_modes',
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('price_unit', sa.String(length=16), nullable=False),
    sa.CheckConstraint("(mode = 'full_day' AND price_unit IN ('day', 'month')) OR (mode = 'half_day' AND price_unit IN ('half_day', 'month')) OR (mode = 'hourly' AND price_unit IN ('hour')) OR (mode = 'temporary' AND price_unit IN ('day', 'half_day'))", name=op.f('ck_institution_modes_price_unit_fits_mode')),
    sa.CheckConstraint("mode IN ('full_day', 'half_day', 'hourly', 'temporary')", name=op.f('ck_institution_modes_mode')),
    sa.CheckConstraint('price_fen BETWEEN 0 AND 10000000', name=op.f('ck_institution_modes_price_range')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_institution_modes_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('institution_id', 'mode', name=op.f('pk_institution_modes'))
    )
    op.create_table('role_grants',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=True),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('unit_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("CASE role WHEN 'institution_staff' THEN institution_id IS NOT NULL AND department_code IS NULL AND unit_code IS NULL WHEN 'institution_admin' THEN institution_id IS NOT NULL AND department_code IS NULL AND unit_code IS NULL WHEN 'officer' THEN institution_id IS NULL AND department_code IS NOT NULL ELSE institution_id IS NULL AND department_code IS NULL AND unit_code IS NULL END", name=op.f('ck_role_grants_scope_matches_role')),
    sa.CheckConstraint("role IN ('parent', 'institution_staff', 'institution_admin', 'officer', 'city_admin')", name=op.f('ck_role_grants_role')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_role_grants_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_role_grants_department_code_departments')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_role_grants_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_role_grants_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants'))
    )
    op.create_index('ix_role_grants_institution_id', 'role_grants', ['institution_id'], unique=False, postgresql_where=sa.text('institution_id IS NOT NULL'))
    op.create_index('uq_role_grants_scope', 'role_grants', ['account_id', 'role', 'institution_id', 'department_code', 'unit_code'], unique=True, postgresql_nulls_not_distinct=True)
    for statement in (CLASS_RULES_FUNCTION, CLASS_RULES_TRIGGER, KIND_RULES_FUNCTION, KIND_RULES_TRIGGER):
        op.execute(statement)

    units = sa.table(
        "units", sa.column("code"), sa.column("name_zh"), sa.column("name_en"), sa.column("kind"),
        sa.column("population"), sa.column("population_note"), sa.column("center_lat"), sa.column("center_lng"),
        sa.column("sort_order"),
    )
    op.bulk_insert(units, [
        dict(code=c, name_zh=zh, name_en=en, kind=k, population=pop, population_note=POPULATION_NOTE,
             center_lat=lat, center_lng=lng, sort_order=order)
        for c, zh, en, k, pop, lat, lng, order in UNITS
    ])
    departments = sa.table(
        "departments", sa.column("code"), sa.column("name_zh"), sa.column("short_zh"), sa.column("name_en"),
        sa.column("kind"), sa.column("unit_code"),
    )
    rows = [dict(code=c, name_zh=zh, short_zh=short, name_en=en, kind="city_department", unit_code=None)
            for c, zh, short, en in CITY_DEPARTMENTS]
    for code, zh, en, *_ in UNITS:
        # Each unit's territorial government (属地政府) also receives routed complaints.
        if code == 230671:
            names = ("大庆高新技术产业开发区管理委员会", "高新区管委会", "High-tech Zone Administrative Committee")
        else:
            names = (f"{zh}人民政府", f"{zh}政府", f"{en} People's Government")
        rows.append(dict(code=f"gov_{code}", name_zh=names[0], short_zh=names[1], name_en=names[2],
                         kind="unit_government", unit_code=code))
    op.bulk_insert(departments, rows)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS institutions_kind_rules ON institutions")
    op.execute("DROP FUNCTION IF EXISTS institutions_kind_rules()")
    op.execute("DROP TRIGGER IF EXISTS classes_institution_rules ON classes")
    op.execute("DROP FUNCTION IF EXISTS classes_institution_rules()")
    op.drop_index('uq_role_grants_scope', table_name='role_grants', postgresql_nulls_not_distinct=True)
    op.drop_index('ix_role_grants_institution_id', table_name='role_grants', postgresql_where=sa.text('institution_id IS NOT NULL'))
    op.drop_table('role_grants')
    op.drop_table('institution_modes')
    op.drop_table('classes')
    op.drop_index('ix_institutions_unit_code', table_name='institutions')
    op.drop_index('ix_institutions_earth', table_name='institutions', postgresql_using='gist')
    op.drop_table('institutions')
    op.drop_index('ix_guardianships_account_id', table_name='guardianships')
    op.drop_table('guardianships')
    op.drop_table('departments')
    op.drop_index('ix_auth_sessions_account_id', table_name='auth_sessions')
    op.drop_table('auth_sessions')
    op.drop_table('units')
    op.drop_table('rate_limit_counters')
    op.drop_index('ix_otp_codes_phone_created_at', table_name='otp_codes')
    op.drop_table('otp_codes')
    op.drop_table('children')
    op.drop_table('accounts')
