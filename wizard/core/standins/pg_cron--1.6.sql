-- migration-wizard stand-in for the pg_cron extension, for the wizard's local database only.
-- Written in SQL and PL/pgSQL: not the real extension. cron.schedule() and its companions record
-- jobs in cron.job as pg_cron does, but no scheduler exists: a job never runs, and
-- cron.job_run_details stays empty.

\echo Use "CREATE EXTENSION pg_cron" to load this file. \quit

CREATE SCHEMA cron;
COMMENT ON SCHEMA cron IS 'migration-wizard stand-in: not the real pg_cron; jobs are recorded and never run';

CREATE SEQUENCE cron.jobid_seq;
CREATE SEQUENCE cron.runid_seq;

CREATE TABLE cron.job (
    jobid bigint PRIMARY KEY DEFAULT nextval('cron.jobid_seq'),
    schedule text NOT NULL,
    command text NOT NULL,
    nodename text NOT NULL DEFAULT 'localhost',
    nodeport integer NOT NULL DEFAULT coalesce(inet_server_port(), 5432),
    database text NOT NULL DEFAULT current_database(),
    username text NOT NULL DEFAULT current_user,
    active boolean NOT NULL DEFAULT true,
    jobname text,
    CONSTRAINT jobname_username_uniq UNIQUE (jobname, username)
);
ALTER SEQUENCE cron.jobid_seq OWNED BY cron.job.jobid;
COMMENT ON TABLE cron.job IS 'migration-wizard stand-in: not the real pg_cron; the jobs recorded here never run';

CREATE TABLE cron.job_run_details (
    jobid bigint,
    runid bigint PRIMARY KEY DEFAULT nextval('cron.runid_seq'),
    job_pid integer,
    database text,
    username text,
    command text,
    status text,
    return_message text,
    start_time timestamptz,
    end_time timestamptz
);
ALTER SEQUENCE cron.runid_seq OWNED BY cron.job_run_details.runid;
COMMENT ON TABLE cron.job_run_details IS 'migration-wizard stand-in: not the real pg_cron; stays empty, no job ever runs';

-- A light check of the schedule: five (or six) cron fields, an @-keyword, or "N seconds".
CREATE FUNCTION cron.standin_check_schedule(schedule text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $body$
BEGIN
    IF schedule IS NULL
       OR NOT (schedule ~ '^\s*\S+(\s+\S+){4,5}\s*$'
               OR schedule ~* '^\s*@(yearly|annually|monthly|weekly|daily|midnight|hourly|reboot)\s*$'
               OR schedule ~* '^\s*[0-9]+\s+seconds?\s*$') THEN
        RAISE EXCEPTION 'invalid schedule: %', schedule USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$body$;
COMMENT ON FUNCTION cron.standin_check_schedule(text) IS
    'migration-wizard stand-in: a light check of a cron schedule; not part of the real pg_cron';

CREATE FUNCTION cron.schedule(schedule text, command text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $body$
DECLARE
    id bigint;
BEGIN
    PERFORM cron.standin_check_schedule(schedule);
    INSERT INTO cron.job (schedule, command) VALUES (schedule, command) RETURNING jobid INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION cron.schedule(text, text) IS
    'migration-wizard stand-in: not the real pg_cron; records the job in cron.job, it never runs';

CREATE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $body$
DECLARE
    id bigint;
BEGIN
    PERFORM cron.standin_check_schedule(schedule);
    INSERT INTO cron.job (schedule, command, jobname) VALUES (schedule, command, job_name)
        ON CONFLICT ON CONSTRAINT jobname_username_uniq
        DO UPDATE SET schedule = EXCLUDED.schedule, command = EXCLUDED.command
        RETURNING jobid INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION cron.schedule(text, text, text) IS
    'migration-wizard stand-in: not the real pg_cron; records the job in cron.job, it never runs';

CREATE FUNCTION cron.schedule_in_database(job_name text, schedule text, command text, database text,
                                          username text DEFAULT NULL, active boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $body$
DECLARE
    id bigint;
BEGIN
    PERFORM cron.standin_check_schedule(schedule);
    INSERT INTO cron.job (schedule, command, jobname, database, username, active)
        VALUES (schedule, command, job_name, database, coalesce(username, current_user), active)
        ON CONFLICT ON CONSTRAINT jobname_username_uniq
        DO UPDATE SET schedule = EXCLUDED.schedule, command = EXCLUDED.command,
                      database = EXCLUDED.database, active = EXCLUDED.active
        RETURNING jobid INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) IS
    'migration-wizard stand-in: not the real pg_cron; records the job in cron.job, it never runs';

CREATE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $body$
BEGIN
    DELETE FROM cron.job WHERE jobid = job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'could not find valid entry for job %', job_id;
    END IF;
    RETURN true;
END
$body$;
COMMENT ON FUNCTION cron.unschedule(bigint) IS 'migration-wizard stand-in: not the real pg_cron';

CREATE FUNCTION cron.unschedule(job_name text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $body$
BEGIN
    DELETE FROM cron.job WHERE jobname = job_name AND username = current_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'could not find valid entry for job ''%''', job_name;
    END IF;
    RETURN true;
END
$body$;
COMMENT ON FUNCTION cron.unschedule(text) IS 'migration-wizard stand-in: not the real pg_cron';

CREATE FUNCTION cron.alter_job(job_id bigint, schedule text DEFAULT NULL, command text DEFAULT NULL,
                               database text DEFAULT NULL, username text DEFAULT NULL,
                               active boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $body$
BEGIN
    IF schedule IS NOT NULL THEN
        PERFORM cron.standin_check_schedule(schedule);
    END IF;
    UPDATE cron.job j
       SET schedule = coalesce(alter_job.schedule, j.schedule),
           command = coalesce(alter_job.command, j.command),
           database = coalesce(alter_job.database, j.database),
           username = coalesce(alter_job.username, j.username),
           active = coalesce(alter_job.active, j.active)
     WHERE j.jobid = job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'could not find valid entry for job %', job_id;
    END IF;
END
$body$;
COMMENT ON FUNCTION cron.alter_job(bigint, text, text, text, text, boolean) IS 'migration-wizard stand-in: not the real pg_cron';

