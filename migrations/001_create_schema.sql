-- 001_create_schema.sql
-- Core schema of the bilan de compétences platform.
-- Creates:
--   * functions : set_updated_at() (shared updated_at trigger), the row level security helpers
--                 current_user_role(), current_user_organization_id(), is_admin(), is_org_admin_of(),
--                 is_staff_of(), can_access_bilan(), can_manage_bilan(), shares_bilan_with(),
--                 administers_bilan_of(),
--                 and the guard triggers users_guard_privileged_columns(), bilans_guard_assignment()
--   * tables    : organizations, users, bilans, competencies, recommendations, documents,
--                 messages, sessions, audit_logs
--   * indexes, updated_at triggers, grants, row level security and policies for these tables.
-- Re-runnable: every statement is guarded (IF NOT EXISTS, OR REPLACE, DROP ... IF EXISTS).

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Shared trigger function: keeps updated_at current on every UPDATE
-- =============================================================================
CREATE OR REPLACE FUNCTION public.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION public.set_updated_at() IS
  'BEFORE UPDATE trigger function: sets updated_at to now(). Attached to every table with an updated_at column.';

-- =============================================================================
-- organizations: training providers (organismes prestataires) running bilans
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.organizations (
  id                          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name                        text        NOT NULL CHECK (btrim(name) <> ''),
  siret                       text        UNIQUE CHECK (siret ~ '^[0-9]{14}$'),
  nda_number                  text        CHECK (nda_number ~ '^[0-9]{11}$'),
  email                       text,
  phone                       text,
  website                     text,
  address_line                text,
  postal_code                 text,
  city                        text,
  country                     text        NOT NULL DEFAULT 'FR' CHECK (country ~ '^[A-Z]{2}$'),
  subscription_plan           text        NOT NULL DEFAULT 'starter'
                                          CHECK (subscription_plan IN ('starter', 'professional', 'enterprise')),
  qualiopi_certified          boolean     NOT NULL DEFAULT false,
  qualiopi_certificate_number text,
  qualiopi_certified_at       date,
  qualiopi_expires_at         date,
  is_active                   boolean     NOT NULL DEFAULT true,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  deleted_at                  timestamptz,
  CONSTRAINT organizations_qualiopi_dates_check
    CHECK (qualiopi_expires_at IS NULL OR qualiopi_certified_at IS NULL
           OR qualiopi_expires_at > qualiopi_certified_at)
);

COMMENT ON TABLE public.organizations IS 'Organisations (organismes prestataires) delivering bilans de compétences.';
COMMENT ON COLUMN public.organizations.nda_number IS 'Numéro de déclaration d''activité (11 digits).';

CREATE INDEX IF NOT EXISTS idx_organizations_active
  ON public.organizations (is_active) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS idx_organizations_qualiopi_expires_at
  ON public.organizations (qualiopi_expires_at) WHERE qualiopi_expires_at IS NOT NULL;

-- =============================================================================
-- users: accounts managed by the backend's own authentication
-- (POST /api/auth/register inserts email, password_hash, full_name, role)
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.users (
  id                            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email                         text        NOT NULL UNIQUE
                                            CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  password_hash                 text        NOT NULL,
  full_name                     text        NOT NULL CHECK (btrim(full_name) <> ''),
  role                          text        NOT NULL DEFAULT 'beneficiary'
                                            CHECK (lower(role) IN ('beneficiary', 'consultant', 'org_admin', 'admin')),
  organization_id               uuid        REFERENCES public.organizations (id) ON DELETE SET NULL,
  phone                         text,
  avatar_url                    text,
  bio                           text,
  email_verified                boolean     NOT NULL DEFAULT false,
  email_verified_at             timestamptz,
  email_verification_token      text,
  email_verification_expires_at timestamptz,
  is_active                     boolean     NOT NULL DEFAULT true,
  last_login_at                 timestamptz,
  created_at                    timestamptz NOT NULL DEFAULT now(),
  updated_at                    timestamptz NOT NULL DEFAULT now(),
  deleted_at                    timestamptz
);

COMMENT ON TABLE public.users IS 'Platform accounts (beneficiaries, consultants, organisation admins, admins). Authentication is handled by the backend.';
COMMENT ON COLUMN public.users.role IS 'beneficiary | consultant | org_admin | admin. Stored as sent by the API and compared case-insensitively.';
COMMENT ON COLUMN public.users.deleted_at IS 'Soft deletion / GDPR anonymisation timestamp.';

-- email is unique as written (users_email_key) and also case-insensitively
CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON public.users (lower(email));
CREATE UNIQUE INDEX IF NOT EXISTS users_email_verification_token_key
  ON public.users (email_verification_token) WHERE email_verification_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_users_organization_id ON public.users (organization_id);
CREATE INDEX IF NOT EXISTS idx_users_role ON public.users (lower(role));
CREATE INDEX IF NOT EXISTS idx_users_created_at ON public.users (created_at);

-- =============================================================================
-- Row level security helpers
-- SECURITY DEFINER so that policies can read users/bilans without recursing
-- through those tables' own policies. search_path is pinned.
-- =============================================================================
CREATE OR REPLACE FUNCTION public.current_user_role()
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT lower(u.role)
  FROM public.users AS u
  WHERE u.id = auth.uid()
    AND u.is_active
    AND u.deleted_at IS NULL
$$;

COMMENT ON FUNCTION public.current_user_role() IS
  'Lower-cased role of the active user identified by auth.uid(), NULL when unknown.';

CREATE OR REPLACE FUNCTION public.current_user_organization_id()
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT u.organization_id
  FROM public.users AS u
  WHERE u.id = auth.uid()
    AND u.is_active
    AND u.deleted_at IS NULL
$$;

CREATE OR REPLACE FUNCTION public.is_admin()
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT coalesce(public.current_user_role() = 'admin', false)
$$;

CREATE OR REPLACE FUNCTION public.is_org_admin_of(p_organization_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT p_organization_id IS NOT NULL
     AND coalesce(public.current_user_role() = 'org_admin', false)
     AND public.current_user_organization_id() = p_organization_id
$$;

-- consultant or org admin belonging to the organisation
CREATE OR REPLACE FUNCTION public.is_staff_of(p_organization_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT p_organization_id IS NOT NULL
     AND coalesce(public.current_user_role() IN ('consultant', 'org_admin'), false)
     AND public.current_user_organization_id() = p_organization_id
$$;

-- =============================================================================
-- bilans: one bilan de compétences (the assessment record) per beneficiary journey
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.bilans (
  id                 uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
  beneficiary_id     uuid         NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  consultant_id      uuid         REFERENCES public.users (id) ON DELETE SET NULL,
  organization_id    uuid         REFERENCES public.organizations (id) ON DELETE RESTRICT,
  title              text,
  description        text,
  phase              text         NOT NULL DEFAULT 'preliminary'
                                  CHECK (phase IN ('preliminary', 'investigation', 'conclusion', 'follow_up')),
  funding_source     text         CHECK (funding_source IN ('cpf', 'employer', 'france_travail', 'transition_pro', 'personal', 'other')),
  duration_hours     numeric(4,1) NOT NULL DEFAULT 24
                                  CHECK (duration_hours > 0 AND duration_hours <= 24),
  start_date         date,
  expected_end_date  date,
  contract_signed_at timestamptz,
  created_at         timestamptz  NOT NULL DEFAULT now(),
  updated_at         timestamptz  NOT NULL DEFAULT now(),
  deleted_at         timestamptz,
  CONSTRAINT bilans_dates_check
    CHECK (expected_end_date IS NULL OR start_date IS NULL OR expected_end_date >= start_date),
  CONSTRAINT bilans_distinct_people_check
    CHECK (consultant_id IS NULL OR consultant_id <> beneficiary_id)
);

COMMENT ON TABLE public.bilans IS 'Bilans de compétences (assessment records). Migration 002 adds the assessment flow columns.';
COMMENT ON COLUMN public.bilans.phase IS 'Statutory phase of the bilan: preliminary, investigation, conclusion, then follow_up (entretien de suivi).';
COMMENT ON COLUMN public.bilans.duration_hours IS 'A bilan de compétences lasts at most 24 hours (Code du travail).';

CREATE INDEX IF NOT EXISTS idx_bilans_beneficiary_id ON public.bilans (beneficiary_id);
CREATE INDEX IF NOT EXISTS idx_bilans_consultant_id ON public.bilans (consultant_id);
CREATE INDEX IF NOT EXISTS idx_bilans_organization_id ON public.bilans (organization_id);
CREATE INDEX IF NOT EXISTS idx_bilans_phase ON public.bilans (phase);
CREATE INDEX IF NOT EXISTS idx_bilans_created_at ON public.bilans (created_at);

-- Bilan access helpers (SQL bodies are checked at creation, hence after the table)
CREATE OR REPLACE FUNCTION public.can_access_bilan(p_bilan_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1
    FROM public.bilans AS b
    WHERE b.id = p_bilan_id
      AND (   b.beneficiary_id = auth.uid()
           OR b.consultant_id = auth.uid()
           OR public.is_org_admin_of(b.organization_id)
           OR public.is_admin())
  )
$$;

CREATE OR REPLACE FUNCTION public.can_manage_bilan(p_bilan_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1
    FROM public.bilans AS b
    WHERE b.id = p_bilan_id
      AND (   b.consultant_id = auth.uid()
           OR public.is_org_admin_of(b.organization_id)
           OR public.is_admin())
  )
$$;

-- true when the current user and p_user_id are beneficiary and consultant of a common bilan
CREATE OR REPLACE FUNCTION public.shares_bilan_with(p_user_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1
    FROM public.bilans AS b
    WHERE (b.beneficiary_id = auth.uid() AND b.consultant_id = p_user_id)
       OR (b.consultant_id = auth.uid() AND b.beneficiary_id = p_user_id)
  )
$$;

-- true when p_user_id takes part in a bilan of an organisation the current user administers
CREATE OR REPLACE FUNCTION public.administers_bilan_of(p_user_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public
AS $$
  SELECT EXISTS (
    SELECT 1
    FROM public.bilans AS b
    WHERE (b.beneficiary_id = p_user_id OR b.consultant_id = p_user_id)
      AND public.is_org_admin_of(b.organization_id)
  )
$$;

-- =============================================================================
-- Guard triggers: direct API callers (roles anon / authenticated) cannot
-- escalate their privileges. The backend (service_role or owner) is not limited.
-- =============================================================================
CREATE OR REPLACE FUNCTION public.users_guard_privileged_columns()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated') AND NOT public.is_admin() THEN
    IF NEW.role IS DISTINCT FROM OLD.role
       OR NEW.organization_id IS DISTINCT FROM OLD.organization_id
       OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
       OR NEW.email_verified IS DISTINCT FROM OLD.email_verified
       OR NEW.email_verified_at IS DISTINCT FROM OLD.email_verified_at
       OR NEW.email_verification_token IS DISTINCT FROM OLD.email_verification_token
       OR NEW.is_active IS DISTINCT FROM OLD.is_active
       OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
      RAISE EXCEPTION 'only an administrator can change role, organisation, credentials or account state'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.bilans_guard_assignment()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated')
     AND NOT public.is_admin()
     AND NOT public.is_org_admin_of(OLD.organization_id) THEN
    IF NEW.beneficiary_id IS DISTINCT FROM OLD.beneficiary_id
       OR NEW.consultant_id IS DISTINCT FROM OLD.consultant_id
       OR NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
      RAISE EXCEPTION 'only an administrator of the organisation can reassign a bilan'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END;
$$;

-- =============================================================================
-- competencies: catalogue of reference competencies (skills) used in bilans
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.competencies (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  code        text        UNIQUE,
  name        text        NOT NULL CHECK (btrim(name) <> ''),
  category    text        NOT NULL DEFAULT 'other'
                          CHECK (category IN ('technical', 'soft', 'language', 'digital', 'management', 'other')),
  description text,
  rome_code   text        CHECK (rome_code ~ '^[A-N][0-9]{4}$'),
  is_active   boolean     NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.competencies IS 'Reference catalogue of competencies. Competencies assessed within a bilan live in assessment_competencies.';
COMMENT ON COLUMN public.competencies.rome_code IS 'Related ROME job code (letter A-N followed by 4 digits), if any.';

CREATE UNIQUE INDEX IF NOT EXISTS competencies_name_category_key
  ON public.competencies (lower(name), category);
CREATE INDEX IF NOT EXISTS idx_competencies_category ON public.competencies (category) WHERE is_active;

-- =============================================================================
-- recommendations: career / training recommendations issued during a bilan
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.recommendations (
  id                  uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
  bilan_id            uuid         NOT NULL REFERENCES public.bilans (id) ON DELETE CASCADE,
  created_by          uuid         REFERENCES public.users (id) ON DELETE SET NULL,
  recommendation_type text         NOT NULL
                                   CHECK (recommendation_type IN ('job', 'training', 'certification', 'career_path', 'action')),
  title               text         NOT NULL CHECK (btrim(title) <> ''),
  description         text,
  rome_code           text         CHECK (rome_code ~ '^[A-N][0-9]{4}$'),
  match_score         numeric(5,2) CHECK (match_score BETWEEN 0 AND 100),
  priority            smallint     NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
  status              text         NOT NULL DEFAULT 'proposed'
                                   CHECK (status IN ('proposed', 'accepted', 'in_progress', 'completed', 'dismissed')),
  validated_by        uuid         REFERENCES public.users (id) ON DELETE SET NULL,
  validated_at        timestamptz,
  created_at          timestamptz  NOT NULL DEFAULT now(),
  updated_at          timestamptz  NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.recommendations IS 'Recommendations (jobs, trainings, actions) attached to a bilan.';

CREATE INDEX IF NOT EXISTS idx_recommendations_bilan_id ON public.recommendations (bilan_id, priority);
CREATE INDEX IF NOT EXISTS idx_recommendations_status ON public.recommendations (status);
CREATE INDEX IF NOT EXISTS idx_recommendations_created_by ON public.recommendations (created_by);
CREATE INDEX IF NOT EXISTS idx_recommendations_validated_by ON public.recommendations (validated_by);

-- =============================================================================
-- documents: working documents of a bilan (convention, synthèse, ...)
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.documents (
  id                      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  bilan_id                uuid        NOT NULL REFERENCES public.bilans (id) ON DELETE CASCADE,
  uploaded_by             uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  document_type           text        NOT NULL DEFAULT 'other'
                                      CHECK (document_type IN ('convention', 'preliminary', 'investigation', 'conclusion',
                                                               'synthesis', 'cv', 'attendance_sheet', 'other')),
  title                   text        NOT NULL CHECK (btrim(title) <> ''),
  file_name               text,
  storage_path            text        NOT NULL,
  mime_type               text,
  file_size_bytes         bigint      CHECK (file_size_bytes >= 0),
  version                 integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  visible_to_beneficiary  boolean     NOT NULL DEFAULT true,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.documents IS 'Files produced or collected during a bilan. Archived copies for Qualiopi live in document_archive.';
COMMENT ON COLUMN public.documents.visible_to_beneficiary IS 'false for consultant working documents not shared with the beneficiary.';

CREATE INDEX IF NOT EXISTS idx_documents_bilan_id ON public.documents (bilan_id);
CREATE INDEX IF NOT EXISTS idx_documents_uploaded_by ON public.documents (uploaded_by);
CREATE INDEX IF NOT EXISTS idx_documents_document_type ON public.documents (document_type);

-- =============================================================================
-- messages: messages between a beneficiary and a consultant
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.messages (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  bilan_id      uuid        REFERENCES public.bilans (id) ON DELETE CASCADE,
  sender_id     uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  recipient_id  uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  subject       text,
  content       text        NOT NULL CHECK (btrim(content) <> ''),
  message_type  text        NOT NULL DEFAULT 'text' CHECK (message_type IN ('text', 'file', 'system')),
  read_at       timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT messages_distinct_people_check CHECK (sender_id <> recipient_id)
);

COMMENT ON TABLE public.messages IS 'Direct messages, optionally attached to a bilan.';

CREATE INDEX IF NOT EXISTS idx_messages_bilan_id ON public.messages (bilan_id, created_at);
CREATE INDEX IF NOT EXISTS idx_messages_sender_id ON public.messages (sender_id, created_at);
CREATE INDEX IF NOT EXISTS idx_messages_recipient_id ON public.messages (recipient_id, created_at);
CREATE INDEX IF NOT EXISTS idx_messages_recipient_unread ON public.messages (recipient_id) WHERE read_at IS NULL;

-- =============================================================================
-- sessions: the interviews (entretiens) held during a bilan
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.sessions (
  id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  bilan_id              uuid        NOT NULL REFERENCES public.bilans (id) ON DELETE CASCADE,
  consultant_id         uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  phase                 text        NOT NULL DEFAULT 'preliminary'
                                    CHECK (phase IN ('preliminary', 'investigation', 'conclusion', 'follow_up')),
  format                text        NOT NULL DEFAULT 'in_person' CHECK (format IN ('in_person', 'video', 'phone')),
  status                text        NOT NULL DEFAULT 'scheduled'
                                    CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
  scheduled_at          timestamptz NOT NULL,
  duration_minutes      integer     NOT NULL DEFAULT 60 CHECK (duration_minutes > 0 AND duration_minutes <= 480),
  location              text,
  meeting_url           text,
  beneficiary_attended  boolean,
  attendance_signed_at  timestamptz,
  completed_at          timestamptz,
  notes                 text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.sessions IS 'Interviews (entretiens) of a bilan. attendance_signed_at records the émargement kept as Qualiopi evidence.';

CREATE INDEX IF NOT EXISTS idx_sessions_bilan_id ON public.sessions (bilan_id, scheduled_at);
CREATE INDEX IF NOT EXISTS idx_sessions_consultant_id ON public.sessions (consultant_id, scheduled_at);
CREATE INDEX IF NOT EXISTS idx_sessions_status ON public.sessions (status);
CREATE INDEX IF NOT EXISTS idx_sessions_scheduled_at ON public.sessions (scheduled_at);

-- =============================================================================
-- audit_logs: GDPR audit trail of actions on personal data (append-only)
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.audit_logs (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid        REFERENCES public.users (id) ON DELETE SET NULL,
  organization_id uuid        REFERENCES public.organizations (id) ON DELETE SET NULL,
  action          text        NOT NULL CHECK (btrim(action) <> ''),
  entity_type     text        NOT NULL CHECK (btrim(entity_type) <> ''),
  entity_id       uuid,
  old_values      jsonb,
  new_values      jsonb,
  ip_address      inet,
  user_agent      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.audit_logs IS 'Append-only GDPR audit trail: who did what on which record.';

CREATE INDEX IF NOT EXISTS idx_audit_logs_user_id ON public.audit_logs (user_id, created_at);
CREATE INDEX IF NOT EXISTS idx_audit_logs_organization_id ON public.audit_logs (organization_id, created_at);
CREATE INDEX IF NOT EXISTS idx_audit_logs_entity ON public.audit_logs (entity_type, entity_id);
CREATE INDEX IF NOT EXISTS idx_audit_logs_created_at ON public.audit_logs (created_at);

-- =============================================================================
-- Triggers
-- =============================================================================
DROP TRIGGER IF EXISTS trg_organizations_updated_at ON public.organizations;
CREATE TRIGGER trg_organizations_updated_at
  BEFORE UPDATE ON public.organizations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_users_updated_at ON public.users;
CREATE TRIGGER trg_users_updated_at
  BEFORE UPDATE ON public.users
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_users_guard_privileged_columns ON public.users;
CREATE TRIGGER trg_users_guard_privileged_columns
  BEFORE UPDATE ON public.users
  FOR EACH ROW EXECUTE FUNCTION public.users_guard_privileged_columns();

DROP TRIGGER IF EXISTS trg_bilans_updated_at ON public.bilans;
CREATE TRIGGER trg_bilans_updated_at
  BEFORE UPDATE ON public.bilans
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_bilans_guard_assignment ON public.bilans;
CREATE TRIGGER trg_bilans_guard_assignment
  BEFORE UPDATE ON public.bilans
  FOR EACH ROW EXECUTE FUNCTION public.bilans_guard_assignment();

DROP TRIGGER IF EXISTS trg_competencies_updated_at ON public.competencies;
CREATE TRIGGER trg_competencies_updated_at
  BEFORE UPDATE ON public.competencies
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_recommendations_updated_at ON public.recommendations;
CREATE TRIGGER trg_recommendations_updated_at
  BEFORE UPDATE ON public.recommendations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_documents_updated_at ON public.documents;
CREATE TRIGGER trg_documents_updated_at
  BEFORE UPDATE ON public.documents
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_messages_updated_at ON public.messages;
CREATE TRIGGER trg_messages_updated_at
  BEFORE UPDATE ON public.messages
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

DROP TRIGGER IF EXISTS trg_sessions_updated_at ON public.sessions;
CREATE TRIGGER trg_sessions_updated_at
  BEFORE UPDATE ON public.sessions
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Privileges
-- Supabase grants table privileges to its API roles by default; plain
-- PostgreSQL does not, so they are granted explicitly (grants are idempotent).
-- Row level security below decides which rows each user reaches.
-- =============================================================================
REVOKE ALL ON FUNCTION public.current_user_role(), public.current_user_organization_id(),
  public.is_admin(), public.is_org_admin_of(uuid), public.is_staff_of(uuid),
  public.can_access_bilan(uuid), public.can_manage_bilan(uuid), public.shares_bilan_with(uuid),
  public.administers_bilan_of(uuid)
  FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.current_user_role(), public.current_user_organization_id(),
  public.is_admin(), public.is_org_admin_of(uuid), public.is_staff_of(uuid),
  public.can_access_bilan(uuid), public.can_manage_bilan(uuid), public.shares_bilan_with(uuid),
  public.administers_bilan_of(uuid)
  TO authenticated, service_role;

GRANT SELECT, INSERT, UPDATE, DELETE ON
  public.organizations, public.users, public.bilans, public.competencies,
  public.recommendations, public.documents, public.messages, public.sessions
  TO authenticated;
GRANT SELECT, INSERT ON public.audit_logs TO authenticated;

-- users: the API roles never read password hashes or e-mail verification tokens (the backend
-- reads them with its service role). Revoking the table-wide SELECT first also drops earlier
-- column grants, so a re-run ends in the same state.
REVOKE SELECT ON public.users FROM anon, authenticated;
GRANT SELECT (id, email, full_name, role, organization_id, phone, avatar_url, bio, email_verified,
              email_verified_at, is_active, last_login_at, created_at, updated_at, deleted_at)
  ON public.users TO authenticated;
GRANT ALL ON
  public.organizations, public.users, public.bilans, public.competencies,
  public.recommendations, public.documents, public.messages, public.sessions,
  public.audit_logs
  TO service_role;

-- =============================================================================
-- Row level security
-- =============================================================================
ALTER TABLE public.organizations   ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users           ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.bilans          ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.competencies    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.recommendations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.documents       ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.messages        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.sessions        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_logs      ENABLE ROW LEVEL SECURITY;

-- organizations: members read their organisation, org admins update it, admins manage all
DROP POLICY IF EXISTS organizations_select_member ON public.organizations;
CREATE POLICY organizations_select_member ON public.organizations
  FOR SELECT TO authenticated
  USING (id = public.current_user_organization_id() OR public.is_admin());

DROP POLICY IF EXISTS organizations_update_org_admin ON public.organizations;
CREATE POLICY organizations_update_org_admin ON public.organizations
  FOR UPDATE TO authenticated
  USING (public.is_org_admin_of(id))
  WITH CHECK (public.is_org_admin_of(id));

DROP POLICY IF EXISTS organizations_all_admin ON public.organizations;
CREATE POLICY organizations_all_admin ON public.organizations
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

-- users: own row, the other party of a shared bilan, org admins see their organisation's members
-- and the people of its bilans, admins see everyone
DROP POLICY IF EXISTS users_select_visible ON public.users;
CREATE POLICY users_select_visible ON public.users
  FOR SELECT TO authenticated
  USING (
    id = (SELECT auth.uid())
    OR public.is_admin()
    OR public.is_org_admin_of(organization_id)
    OR public.shares_bilan_with(id)
    OR public.administers_bilan_of(id)
  );

DROP POLICY IF EXISTS users_update_self ON public.users;
CREATE POLICY users_update_self ON public.users
  FOR UPDATE TO authenticated
  USING (id = (SELECT auth.uid()))
  WITH CHECK (id = (SELECT auth.uid()));

DROP POLICY IF EXISTS users_update_org_admin ON public.users;
CREATE POLICY users_update_org_admin ON public.users
  FOR UPDATE TO authenticated
  USING (public.is_org_admin_of(organization_id))
  WITH CHECK (public.is_org_admin_of(organization_id));

DROP POLICY IF EXISTS users_all_admin ON public.users;
CREATE POLICY users_all_admin ON public.users
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

-- bilans: beneficiary, assigned consultant, org admins of the organisation, admins
DROP POLICY IF EXISTS bilans_select_participant ON public.bilans;
CREATE POLICY bilans_select_participant ON public.bilans
  FOR SELECT TO authenticated
  USING (
    beneficiary_id = (SELECT auth.uid())
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

DROP POLICY IF EXISTS bilans_insert_owner ON public.bilans;
CREATE POLICY bilans_insert_owner ON public.bilans
  FOR INSERT TO authenticated
  WITH CHECK (
    beneficiary_id = (SELECT auth.uid())
    OR (consultant_id = (SELECT auth.uid()) AND public.is_staff_of(organization_id))
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

DROP POLICY IF EXISTS bilans_update_participant ON public.bilans;
CREATE POLICY bilans_update_participant ON public.bilans
  FOR UPDATE TO authenticated
  USING (
    beneficiary_id = (SELECT auth.uid())
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  )
  WITH CHECK (
    beneficiary_id = (SELECT auth.uid())
    OR consultant_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

DROP POLICY IF EXISTS bilans_delete_admin ON public.bilans;
CREATE POLICY bilans_delete_admin ON public.bilans
  FOR DELETE TO authenticated
  USING (public.is_org_admin_of(organization_id) OR public.is_admin());

-- competencies: readable catalogue, maintained by admins
DROP POLICY IF EXISTS competencies_select_authenticated ON public.competencies;
CREATE POLICY competencies_select_authenticated ON public.competencies
  FOR SELECT TO authenticated
  USING (true);

DROP POLICY IF EXISTS competencies_all_admin ON public.competencies;
CREATE POLICY competencies_all_admin ON public.competencies
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

-- recommendations: bilan participants read, consultants / admins write
DROP POLICY IF EXISTS recommendations_select_participant ON public.recommendations;
CREATE POLICY recommendations_select_participant ON public.recommendations
  FOR SELECT TO authenticated
  USING (public.can_access_bilan(bilan_id));

DROP POLICY IF EXISTS recommendations_all_manager ON public.recommendations;
CREATE POLICY recommendations_all_manager ON public.recommendations
  FOR ALL TO authenticated
  USING (public.can_manage_bilan(bilan_id))
  WITH CHECK (public.can_manage_bilan(bilan_id));

-- documents: managers see all documents of the bilan, the beneficiary sees shared ones and own uploads
DROP POLICY IF EXISTS documents_select_participant ON public.documents;
CREATE POLICY documents_select_participant ON public.documents
  FOR SELECT TO authenticated
  USING (
    public.can_manage_bilan(bilan_id)
    OR (public.can_access_bilan(bilan_id)
        AND (visible_to_beneficiary OR uploaded_by = (SELECT auth.uid())))
  );

DROP POLICY IF EXISTS documents_insert_participant ON public.documents;
CREATE POLICY documents_insert_participant ON public.documents
  FOR INSERT TO authenticated
  WITH CHECK (uploaded_by = (SELECT auth.uid()) AND public.can_access_bilan(bilan_id));

DROP POLICY IF EXISTS documents_modify_owner_or_manager ON public.documents;
CREATE POLICY documents_modify_owner_or_manager ON public.documents
  FOR UPDATE TO authenticated
  USING (uploaded_by = (SELECT auth.uid()) OR public.can_manage_bilan(bilan_id))
  WITH CHECK (public.can_access_bilan(bilan_id));

DROP POLICY IF EXISTS documents_delete_owner_or_manager ON public.documents;
CREATE POLICY documents_delete_owner_or_manager ON public.documents
  FOR DELETE TO authenticated
  USING (uploaded_by = (SELECT auth.uid()) OR public.can_manage_bilan(bilan_id));

-- messages: sender and recipient
DROP POLICY IF EXISTS messages_select_party ON public.messages;
CREATE POLICY messages_select_party ON public.messages
  FOR SELECT TO authenticated
  USING (sender_id = (SELECT auth.uid()) OR recipient_id = (SELECT auth.uid()) OR public.is_admin());

DROP POLICY IF EXISTS messages_insert_sender ON public.messages;
CREATE POLICY messages_insert_sender ON public.messages
  FOR INSERT TO authenticated
  WITH CHECK (
    sender_id = (SELECT auth.uid())
    AND (bilan_id IS NULL OR public.can_access_bilan(bilan_id))
  );

DROP POLICY IF EXISTS messages_update_party ON public.messages;
CREATE POLICY messages_update_party ON public.messages
  FOR UPDATE TO authenticated
  USING (sender_id = (SELECT auth.uid()) OR recipient_id = (SELECT auth.uid()))
  WITH CHECK (sender_id = (SELECT auth.uid()) OR recipient_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS messages_delete_sender ON public.messages;
CREATE POLICY messages_delete_sender ON public.messages
  FOR DELETE TO authenticated
  USING (sender_id = (SELECT auth.uid()) OR public.is_admin());

-- sessions: bilan participants read, consultants / admins write
DROP POLICY IF EXISTS sessions_select_participant ON public.sessions;
CREATE POLICY sessions_select_participant ON public.sessions
  FOR SELECT TO authenticated
  USING (public.can_access_bilan(bilan_id));

DROP POLICY IF EXISTS sessions_all_manager ON public.sessions;
CREATE POLICY sessions_all_manager ON public.sessions
  FOR ALL TO authenticated
  USING (public.can_manage_bilan(bilan_id))
  WITH CHECK (public.can_manage_bilan(bilan_id));

-- audit_logs: users read their own trail (GDPR right of access), org admins their
-- organisation's, admins everything. Rows are written for the acting user only.
-- No UPDATE / DELETE policy: the log is append-only for API callers.
DROP POLICY IF EXISTS audit_logs_select_visible ON public.audit_logs;
CREATE POLICY audit_logs_select_visible ON public.audit_logs
  FOR SELECT TO authenticated
  USING (
    user_id = (SELECT auth.uid())
    OR public.is_org_admin_of(organization_id)
    OR public.is_admin()
  );

DROP POLICY IF EXISTS audit_logs_insert_self ON public.audit_logs;
CREATE POLICY audit_logs_insert_self ON public.audit_logs
  FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()));

RESET client_min_messages;
