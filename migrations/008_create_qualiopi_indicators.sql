-- 008_create_qualiopi_indicators.sql
-- Reference table of the Qualiopi quality framework (Référentiel National Qualité).
-- Creates:
--   * table     : qualiopi_indicators, seeded with the 32 indicators grouped in 7 criteria
--   * updated_at trigger, grants, row level security and policies
-- Re-runnable: rows are keyed by indicator_number, existing ones are left untouched.

-- IF [NOT] EXISTS guards report skipped objects as NOTICEs: keep re-runs quiet
-- (reset at the end of the file).
SET client_min_messages = warning;

-- =============================================================================
-- Table
-- =============================================================================
CREATE TABLE IF NOT EXISTS public.qualiopi_indicators (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  indicator_number smallint    NOT NULL UNIQUE CHECK (indicator_number BETWEEN 1 AND 32),
  criterion_number smallint    NOT NULL CHECK (criterion_number BETWEEN 1 AND 7),
  criterion_label  text        NOT NULL,
  label            text        NOT NULL,
  description      text        NOT NULL,
  scope            text        NOT NULL DEFAULT 'general'
                               CHECK (scope IN ('general', 'certification', 'work_study', 'apprenticeship', 'subcontracting')),
  is_active        boolean     NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- indicators 1-3 belong to criterion 1, 4-8 to 2, 9-16 to 3, 17-20 to 4, 21-22 to 5, 23-29 to 6, 30-32 to 7
  CONSTRAINT qualiopi_indicators_criterion_check CHECK (
    criterion_number = CASE
      WHEN indicator_number <= 3  THEN 1
      WHEN indicator_number <= 8  THEN 2
      WHEN indicator_number <= 16 THEN 3
      WHEN indicator_number <= 20 THEN 4
      WHEN indicator_number <= 22 THEN 5
      WHEN indicator_number <= 29 THEN 6
      ELSE 7
    END)
);

COMMENT ON TABLE public.qualiopi_indicators IS 'The 32 indicators of the Référentiel National Qualité (Qualiopi), grouped in 7 criteria.';
COMMENT ON COLUMN public.qualiopi_indicators.scope IS
  'general: every provider. certification: actions leading to a certification. work_study: alternance / work-based training. '
  'apprenticeship: apprentice training centres (CFA). subcontracting: providers using subcontracting or portage salarial. '
  'A bilan de compétences provider is audited on the general indicators (and subcontracting when relevant).';

-- (indicator_number is indexed by its unique constraint)
CREATE INDEX IF NOT EXISTS idx_qualiopi_indicators_criterion ON public.qualiopi_indicators (criterion_number, indicator_number);

-- =============================================================================
-- Trigger
-- =============================================================================
DROP TRIGGER IF EXISTS trg_qualiopi_indicators_updated_at ON public.qualiopi_indicators;
CREATE TRIGGER trg_qualiopi_indicators_updated_at
  BEFORE UPDATE ON public.qualiopi_indicators
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- =============================================================================
-- Seed: the 32 indicators
-- =============================================================================
INSERT INTO public.qualiopi_indicators
  (indicator_number, criterion_number, scope, criterion_label, label, description)
VALUES
  -- Critère 1
  (1, 1, 'general',
   'Conditions d’information du public sur les prestations proposées, les délais pour y accéder et les résultats obtenus',
   'Information du public sur les prestations',
   'Le prestataire diffuse une information accessible au public, détaillée et vérifiable sur les prestations proposées : prérequis, objectifs, durée, modalités et délais d’accès, tarifs, contacts, méthodes mobilisées et modalités d’évaluation, accessibilité aux personnes handicapées.'),
  (2, 1, 'general',
   'Conditions d’information du public sur les prestations proposées, les délais pour y accéder et les résultats obtenus',
   'Indicateurs de résultats',
   'Le prestataire diffuse des indicateurs de résultats adaptés à la nature des prestations mises en œuvre et des publics accueillis.'),
  (3, 1, 'certification',
   'Conditions d’information du public sur les prestations proposées, les délais pour y accéder et les résultats obtenus',
   'Taux d’obtention des certifications',
   'Lorsque le prestataire met en œuvre des prestations conduisant à une certification professionnelle, il informe sur les taux d’obtention des certifications préparées, les possibilités de valider un ou des blocs de compétences, ainsi que sur les équivalences, passerelles, suites de parcours et les débouchés.'),

  -- Critère 2
  (4, 2, 'general',
   'Identification précise des objectifs des prestations proposées et adaptation de ces prestations aux publics bénéficiaires lors de leur conception',
   'Analyse du besoin du bénéficiaire',
   'Le prestataire analyse le besoin du bénéficiaire en lien avec l’entreprise et/ou le financeur concerné(s).'),
  (5, 2, 'general',
   'Identification précise des objectifs des prestations proposées et adaptation de ces prestations aux publics bénéficiaires lors de leur conception',
   'Objectifs opérationnels et évaluables',
   'Le prestataire définit les objectifs opérationnels et évaluables de la prestation.'),
  (6, 2, 'general',
   'Identification précise des objectifs des prestations proposées et adaptation de ces prestations aux publics bénéficiaires lors de leur conception',
   'Contenus et modalités de mise en œuvre',
   'Le prestataire établit les contenus et les modalités de mise en œuvre de la prestation, adaptés aux objectifs définis et aux publics bénéficiaires.'),
  (7, 2, 'certification',
   'Identification précise des objectifs des prestations proposées et adaptation de ces prestations aux publics bénéficiaires lors de leur conception',
   'Adéquation des contenus aux exigences de la certification',
   'Lorsque le prestataire met en œuvre des prestations conduisant à une certification professionnelle, il s’assure de l’adéquation du ou des contenus de la prestation aux exigences de la certification visée.'),
  (8, 2, 'general',
   'Identification précise des objectifs des prestations proposées et adaptation de ces prestations aux publics bénéficiaires lors de leur conception',
   'Positionnement et évaluation des acquis à l’entrée',
   'Le prestataire détermine les procédures de positionnement et d’évaluation des acquis à l’entrée de la prestation.'),

  -- Critère 3
  (9, 3, 'general',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Information sur les conditions de déroulement',
   'Le prestataire informe les publics bénéficiaires sur les conditions de déroulement de la prestation.'),
  (10, 3, 'general',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Adaptation de la prestation, de l’accompagnement et du suivi',
   'Le prestataire met en œuvre et adapte la prestation, l’accompagnement et le suivi aux publics bénéficiaires.'),
  (11, 3, 'general',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Évaluation de l’atteinte des objectifs',
   'Le prestataire évalue l’atteinte par les publics bénéficiaires des objectifs de la prestation.'),
  (12, 3, 'general',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Engagement des bénéficiaires et prévention des ruptures de parcours',
   'Le prestataire décrit et met en œuvre les mesures pour favoriser l’engagement des bénéficiaires et prévenir les ruptures de parcours.'),
  (13, 3, 'work_study',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Coordination des apprentissages en alternance',
   'Pour les formations en alternance, le prestataire, en lien avec l’entreprise, anticipe avec l’apprenant les missions confiées, à court, moyen et long terme, et assure la coordination et la progressivité des apprentissages réalisés en centre de formation et en entreprise.'),
  (14, 3, 'apprenticeship',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Accompagnement socio-professionnel, éducatif et citoyen',
   'Le prestataire met en œuvre un accompagnement socio-professionnel, éducatif et relatif à l’exercice de la citoyenneté.'),
  (15, 3, 'apprenticeship',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Droits et devoirs des apprentis, santé et sécurité',
   'Le prestataire informe les apprentis de leurs droits et devoirs en tant qu’apprentis et salariés ainsi que des règles applicables en matière de santé et de sécurité en milieu professionnel.'),
  (16, 3, 'certification',
   'Adaptation aux publics bénéficiaires des prestations et des modalités d’accueil, d’accompagnement, de suivi et d’évaluation mises en œuvre',
   'Conditions de présentation à la certification',
   'Lorsque le prestataire met en œuvre des formations conduisant à une certification professionnelle, il s’assure que les conditions de présentation des bénéficiaires à la certification respectent les exigences formelles de l’autorité de certification.'),

  -- Critère 4
  (17, 4, 'general',
   'Adéquation des moyens pédagogiques, techniques et d’encadrement aux prestations mises en œuvre',
   'Moyens humains et techniques, environnement adapté',
   'Le prestataire met à disposition ou s’assure de la mise à disposition des moyens humains et techniques adaptés et d’un environnement approprié (conditions, locaux, équipements, plateaux techniques…).'),
  (18, 4, 'general',
   'Adéquation des moyens pédagogiques, techniques et d’encadrement aux prestations mises en œuvre',
   'Coordination des intervenants',
   'Le prestataire mobilise et coordonne les différents intervenants internes et/ou externes (pédagogiques, administratifs, logistiques, commerciaux…).'),
  (19, 4, 'general',
   'Adéquation des moyens pédagogiques, techniques et d’encadrement aux prestations mises en œuvre',
   'Ressources pédagogiques',
   'Le prestataire met à disposition du bénéficiaire des ressources pédagogiques et permet à celui-ci de se les approprier.'),
  (20, 4, 'apprenticeship',
   'Adéquation des moyens pédagogiques, techniques et d’encadrement aux prestations mises en œuvre',
   'Mobilité, référent handicap et conseil de perfectionnement',
   'Le prestataire dispose d’un personnel dédié à l’appui à la mobilité nationale et internationale, d’un référent handicap et d’un conseil de perfectionnement.'),

  -- Critère 5
  (21, 5, 'general',
   'Qualification et développement des connaissances et compétences des personnels chargés de mettre en œuvre les prestations',
   'Compétences des intervenants',
   'Le prestataire détermine, mobilise et évalue les compétences des différents intervenants internes et/ou externes, adaptées aux prestations.'),
  (22, 5, 'general',
   'Qualification et développement des connaissances et compétences des personnels chargés de mettre en œuvre les prestations',
   'Développement des compétences des salariés',
   'Le prestataire entretient et développe les compétences de ses salariés, adaptées aux prestations qu’il délivre.'),

  -- Critère 6
  (23, 6, 'general',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Veille légale et réglementaire',
   'Le prestataire réalise une veille légale et réglementaire sur le champ de la formation professionnelle et en exploite les enseignements.'),
  (24, 6, 'general',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Veille sur les compétences, les métiers et les emplois',
   'Le prestataire réalise une veille sur les évolutions des compétences, des métiers et des emplois dans ses secteurs d’intervention et en exploite les enseignements.'),
  (25, 6, 'general',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Veille sur les innovations pédagogiques et technologiques',
   'Le prestataire réalise une veille sur les innovations pédagogiques et technologiques permettant une évolution de ses prestations et en exploite les enseignements.'),
  (26, 6, 'general',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Accueil des publics en situation de handicap',
   'Le prestataire mobilise l’expertise, les outils et les réseaux nécessaires pour accueillir, accompagner/former ou orienter les publics en situation de handicap.'),
  (27, 6, 'subcontracting',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Sous-traitance et portage salarial',
   'Lorsque le prestataire fait appel à la sous-traitance ou au portage salarial, il s’assure du respect de la conformité au présent référentiel.'),
  (28, 6, 'work_study',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Réseau de partenaires socio-économiques',
   'Lorsque les prestations dispensées au bénéficiaire comprennent des périodes de formation en situation de travail, le prestataire mobilise son réseau de partenaires socio-économiques pour co-construire l’ingénierie de formation et favoriser l’accueil en entreprise.'),
  (29, 6, 'apprenticeship',
   'Inscription et investissement du prestataire dans son environnement professionnel',
   'Insertion professionnelle et poursuite d’études',
   'Le prestataire développe des actions qui concourent à l’insertion professionnelle ou la poursuite d’étude par la voie de l’apprentissage ou par toute autre voie permettant de développer leurs connaissances et leurs compétences.'),

  -- Critère 7
  (30, 7, 'general',
   'Recueil et prise en compte des appréciations et des réclamations formulées par les parties prenantes aux prestations délivrées',
   'Recueil des appréciations des parties prenantes',
   'Le prestataire recueille les appréciations des parties prenantes : bénéficiaires, financeurs, équipes pédagogiques et entreprises concernées.'),
  (31, 7, 'general',
   'Recueil et prise en compte des appréciations et des réclamations formulées par les parties prenantes aux prestations délivrées',
   'Traitement des difficultés, réclamations et aléas',
   'Le prestataire met en œuvre des modalités de traitement des difficultés rencontrées par les parties prenantes, des réclamations exprimées par ces dernières, des aléas survenus en cours de prestation.'),
  (32, 7, 'general',
   'Recueil et prise en compte des appréciations et des réclamations formulées par les parties prenantes aux prestations délivrées',
   'Mesures d’amélioration',
   'Le prestataire met en œuvre des mesures d’amélioration à partir de l’analyse des appréciations et des réclamations.')
ON CONFLICT (indicator_number) DO NOTHING;

-- =============================================================================
-- Privileges and row level security
-- The framework is public information: readable by anyone, maintained by admins.
-- =============================================================================
GRANT SELECT ON public.qualiopi_indicators TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.qualiopi_indicators TO authenticated;
GRANT ALL ON public.qualiopi_indicators TO service_role;

ALTER TABLE public.qualiopi_indicators ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS qualiopi_indicators_select_all ON public.qualiopi_indicators;
CREATE POLICY qualiopi_indicators_select_all ON public.qualiopi_indicators
  FOR SELECT TO anon, authenticated
  USING (true);

DROP POLICY IF EXISTS qualiopi_indicators_all_admin ON public.qualiopi_indicators;
CREATE POLICY qualiopi_indicators_all_admin ON public.qualiopi_indicators
  FOR ALL TO authenticated
  USING (public.is_admin())
  WITH CHECK (public.is_admin());

RESET client_min_messages;
