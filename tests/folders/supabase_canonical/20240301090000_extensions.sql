-- Extensions live in their own schema, as on every Supabase project.
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
