-- 007_seed_assessment_questions.sql
-- Seeds the 16 template questions of the assessment flow (assessment_id IS NULL), in French,
-- across the three statutory phases of a bilan de compétences:
--   step 1  phase préliminaire      PRE_01 .. PRE_05
--   step 2  phase d’investigation   INV_01 .. INV_07
--   step 3  phase de conclusion     CON_01 .. CON_04
-- Creates no object. Re-runnable: rows are keyed by their code, existing ones are left untouched.

INSERT INTO public.assessment_questions
  (code, phase, step_number, section, display_order, question_type, is_required,
   question_text, help_text, placeholder, options)
VALUES
  -- ---------------------------------------------------------------------------
  -- Phase préliminaire: analyser la demande, définir le besoin et les attentes
  -- ---------------------------------------------------------------------------
  ('PRE_01', 'preliminary', 1, 'demande', 1, 'textarea', true,
   'Qu’est-ce qui vous amène aujourd’hui à entreprendre un bilan de compétences ?',
   'Décrivez librement l’origine de votre démarche et le moment où elle intervient dans votre parcours.',
   'Par exemple : envie de changement, évolution de poste, perte de sens, licenciement…',
   NULL),
  ('PRE_02', 'preliminary', 1, 'attentes', 2, 'multiple_choice', true,
   'Quelles sont vos principales attentes vis-à-vis de ce bilan ?',
   'Plusieurs réponses possibles.',
   NULL,
   '["Faire le point sur mes compétences", "Construire un projet de reconversion", "Évoluer dans mon poste ou mon entreprise", "Préparer une formation ou une VAE", "Créer ou reprendre une entreprise", "Reprendre confiance en moi"]'::jsonb),
  ('PRE_03', 'preliminary', 1, 'situation', 3, 'single_choice', true,
   'Quelle est votre situation professionnelle actuelle ?',
   NULL,
   NULL,
   '["Salarié(e) en CDI", "Salarié(e) en CDD ou en intérim", "Demandeur(se) d’emploi", "Travailleur(se) indépendant(e)", "Agent de la fonction publique", "Autre situation"]'::jsonb),
  ('PRE_04', 'preliminary', 1, 'situation', 4, 'textarea', true,
   'Décrivez votre poste actuel ou le dernier poste occupé : missions principales, environnement de travail, responsabilités.',
   NULL,
   'Intitulé du poste, secteur, taille de l’entreprise, missions…',
   NULL),
  ('PRE_05', 'preliminary', 1, 'contraintes', 5, 'textarea', false,
   'Avez-vous des contraintes à prendre en compte dans votre projet (mobilité géographique, horaires, santé, situation familiale, financières) ?',
   'Ces informations restent confidentielles et servent uniquement à construire un projet réaliste.',
   NULL,
   NULL),

  -- ---------------------------------------------------------------------------
  -- Phase d’investigation: parcours, compétences, intérêts, valeurs, motivations
  -- ---------------------------------------------------------------------------
  ('INV_01', 'investigation', 2, 'parcours', 1, 'textarea', true,
   'Retracez les grandes étapes de votre parcours professionnel et de formation.',
   'Indiquez pour chaque étape la période, le poste ou la formation, et ce que vous en retenez.',
   NULL,
   NULL),
  ('INV_02', 'investigation', 2, 'parcours', 2, 'single_choice', true,
   'Quel est votre niveau de diplôme le plus élevé ?',
   NULL,
   NULL,
   '["Sans diplôme", "CAP / BEP", "Baccalauréat", "Bac +2 (BTS, DUT)", "Bac +3 (licence, BUT)", "Bac +5 (master, diplôme d’école)", "Bac +8 (doctorat)"]'::jsonb),
  ('INV_03', 'investigation', 2, 'competences', 3, 'textarea', true,
   'Quelles réalisations professionnelles ou personnelles vous rendent le plus fier(ère), et quelles compétences y avez-vous mobilisées ?',
   'Choisissez deux ou trois situations concrètes : le contexte, ce que vous avez fait, le résultat obtenu.',
   NULL,
   NULL),
  ('INV_04', 'investigation', 2, 'competences', 4, 'rating', true,
   'Comment évaluez-vous votre aisance avec les outils numériques ?',
   '1 : très peu à l’aise — 5 : tout à fait à l’aise.',
   NULL,
   '{"min": 1, "max": 5, "min_label": "Très peu à l’aise", "max_label": "Tout à fait à l’aise"}'::jsonb),
  ('INV_05', 'investigation', 2, 'interets', 5, 'multiple_choice', true,
   'Quels domaines d’activité suscitent votre intérêt ?',
   'Plusieurs réponses possibles.',
   NULL,
   '["Santé et action sociale", "Éducation et formation", "Commerce et relation client", "Industrie et production", "Numérique et informatique", "Bâtiment et travaux publics", "Art, culture et communication", "Environnement et agriculture", "Gestion, finance et administration", "Transport et logistique"]'::jsonb),
  ('INV_06', 'investigation', 2, 'valeurs', 6, 'multiple_choice', true,
   'Quelles valeurs sont essentielles pour vous dans votre vie professionnelle ?',
   'Sélectionnez au plus trois valeurs.',
   NULL,
   '["Autonomie", "Reconnaissance", "Sécurité de l’emploi", "Équilibre vie professionnelle et vie personnelle", "Utilité sociale", "Créativité", "Travail en équipe", "Rémunération"]'::jsonb),
  ('INV_07', 'investigation', 2, 'motivations', 7, 'textarea', true,
   'Dans quel environnement de travail vous sentez-vous le plus épanoui(e) (taille de la structure, ambiance, rythme, mode de management) ?',
   NULL,
   NULL,
   NULL),

  -- ---------------------------------------------------------------------------
  -- Phase de conclusion: projet professionnel et plan d’action
  -- ---------------------------------------------------------------------------
  ('CON_01', 'conclusion', 3, 'projet', 1, 'textarea', true,
   'Quel(s) projet(s) professionnel(s) envisagez-vous à l’issue de ce bilan ?',
   'Précisez le métier ou l’activité visés et ce qui motive ce choix.',
   NULL,
   NULL),
  ('CON_02', 'conclusion', 3, 'projet', 2, 'rating', true,
   'Sur une échelle de 1 à 10, dans quelle mesure vous sentez-vous prêt(e) à engager ce projet ?',
   NULL,
   NULL,
   '{"min": 1, "max": 10, "min_label": "Pas du tout prêt(e)", "max_label": "Tout à fait prêt(e)"}'::jsonb),
  ('CON_03', 'conclusion', 3, 'plan_action', 3, 'textarea', true,
   'Quelles étapes concrètes prévoyez-vous pour réaliser votre projet (formation, enquêtes métier, immersion, candidatures), et dans quels délais ?',
   NULL,
   'Étape, échéance, personnes ou structures ressources…',
   NULL),
  ('CON_04', 'conclusion', 3, 'plan_action', 4, 'multiple_choice', false,
   'Quels dispositifs pourriez-vous mobiliser pour concrétiser votre projet ?',
   'Plusieurs réponses possibles.',
   NULL,
   '["Compte personnel de formation (CPF)", "Projet de transition professionnelle (PTP)", "Validation des acquis de l’expérience (VAE)", "Plan de développement des compétences de l’entreprise", "Accompagnement par France Travail", "Conseil en évolution professionnelle (CEP)"]'::jsonb)
ON CONFLICT (code) WHERE assessment_id IS NULL DO NOTHING;
