"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 11:28:12.236303
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key_hash', sa.BigInteger(), nullable=True),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('uq_events_key_hash', ['key_hash'], unique=True)

    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('unit_type', sa.String(length=20), nullable=True),
    sa.CheckConstraint("kind IN ('committee', 'general_branch', 'branch', 'group')", name='ck_org_kind'),
    sa.CheckConstraint("unit_type IS NULL OR unit_type IN ('government', 'institution', 'enterprise', 'social', 'village', 'community')", name='ck_org_unit_type'),
    sa.CheckConstraint('(parent_id IS NULL) = (level = 0)', name='ck_org_root_level'),
    sa.CheckConstraint('lat IS NULL OR (lat >= -90 AND lat <= 90)', name='ck_org_lat'),
    sa.CheckConstraint('level >= 0', name='ck_org_level'),
    sa.CheckConstraint('lon IS NULL OR (lon >= -180 AND lon <= 180)', name='ck_org_lon'),
    sa.ForeignKeyConstraint(['parent_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_region_code'), ['region_code'], unique=False)

    op.create_table('member_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=True),
    sa.Column('home_org_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['home_org_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=False),
    sa.Column('ethnicity', sa.String(length=20), nullable=False),
    sa.Column('birth_year', sa.SmallInteger(), nullable=False),
    sa.Column('education', sa.String(length=20), nullable=False),
    sa.Column('occupation', sa.String(length=20), nullable=False),
    sa.Column('post', sa.String(length=20), nullable=True),
    sa.Column('join_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.CheckConstraint("(stage IN ('probationary', 'full')) = (join_date IS NOT NULL)", name='ck_member_join_date'),
    sa.CheckConstraint("gender IN ('M', 'F')", name='ck_member_gender'),
    sa.CheckConstraint("post IS NULL OR post IN ('secretary', 'deputy_secretary', 'committee_member', 'group_leader')", name='ck_member_post'),
    sa.CheckConstraint("stage IN ('applicant', 'activist', 'development_target', 'probationary', 'full')", name='ck_member_stage'),
    sa.CheckConstraint('birth_year BETWEEN 1900 AND 2100', name='ck_member_birth_year'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_org_id'), ['org_id'], unique=False)

    op.create_table('org_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('a_id', sa.Integer(), nullable=False),
    sa.Column('b_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.CheckConstraint("kind IN ('partnership')", name='ck_org_link_kind'),
    sa.CheckConstraint('a_id < b_id', name='ck_org_link_order'),
    sa.ForeignKeyConstraint(['a_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['b_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('a_id', 'b_id', 'kind', name='uq_org_link')
    )
    with op.batch_alter_table('org_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_links_a_id'), ['a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_links_b_id'), ['b_id'], unique=False)

    op.create_table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.CheckConstraint("level IN ('full', 'public')", name='ck_token_level'),
    sa.CheckConstraint("role IN ('ingest', 'display', 'admin')", name='ck_token_role'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('member_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['member_groups.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('group_id', 'member_id')
    )
    with op.batch_alter_table('member_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_group_members_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('member_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_group_members_member_id'))

    op.drop_table('member_group_members')
    op.drop_table('tokens')
    with op.batch_alter_table('org_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_links_b_id'))
        batch_op.drop_index(batch_op.f('ix_org_links_a_id'))

    op.drop_table('org_links')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_org_id'))

    op.drop_table('members')
    op.drop_table('member_groups')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_region_code'))
        batch_op.drop_index(batch_op.f('ix_organisations_path'))
        batch_op.drop_index(batch_op.f('ix_organisations_parent_id'))

    op.drop_table('organisations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('uq_events_key_hash')

    op.drop_table('events')
