-- Written the way `supabase db dump --data-only` writes a project's data: auth's rows with every
-- column named, then the project's own.

SET session_replication_role = replica;

INSERT INTO "auth"."users" ("instance_id", "id", "aud", "role", "email", "encrypted_password", "email_confirmed_at", "invited_at", "confirmation_token", "confirmation_sent_at", "recovery_token", "recovery_sent_at", "email_change_token_new", "email_change", "email_change_sent_at", "last_sign_in_at", "raw_app_meta_data", "raw_user_meta_data", "is_super_admin", "created_at", "updated_at", "phone", "phone_confirmed_at", "phone_change", "phone_change_token", "phone_change_sent_at", "email_change_token_current", "email_change_confirm_status", "banned_until", "reauthentication_token", "reauthentication_sent_at", "is_sso_user", "deleted_at", "is_anonymous") VALUES
	('00000000-0000-0000-0000-000000000000', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', 'authenticated', 'authenticated', 'grace@example.com', '$2a$10$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234', '2024-01-05 12:10:00.000000+00', NULL, '', NULL, '', NULL, '', '', NULL, '2024-01-05 12:11:00.000000+00', '{"provider": "email", "providers": ["email"]}', '{"sub": "6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01", "email": "grace@example.com", "email_verified": true}', NULL, '2024-01-05 12:10:00.000000+00', '2024-01-05 12:11:00.000000+00', NULL, NULL, '', '', NULL, '', 0, NULL, '', NULL, false, NULL, false);

INSERT INTO "auth"."identities" ("provider_id", "user_id", "identity_data", "provider", "last_sign_in_at", "created_at", "updated_at", "id") VALUES
	('6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', '{"sub": "6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01", "email": "Grace@Example.com", "email_verified": true}', 'email', '2024-01-05 12:10:00.000000+00', '2024-01-05 12:10:00.000000+00', '2024-01-05 12:10:00.000000+00', '0b9d6c1e-7a52-4f3b-8e6d-5c4b3a291807');

INSERT INTO "auth"."sessions" ("id", "user_id", "created_at", "updated_at", "factor_id", "aal", "not_after", "refreshed_at", "user_agent", "ip", "tag") VALUES
	('9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', '2024-01-05 12:11:00.000000+00', '2024-01-05 12:11:00.000000+00', NULL, 'aal1', NULL, NULL, 'Mozilla/5.0', '203.0.113.7', NULL);

INSERT INTO "auth"."refresh_tokens" ("instance_id", "id", "token", "user_id", "revoked", "created_at", "updated_at", "parent", "session_id") VALUES
	('00000000-0000-0000-0000-000000000000', 41, 'r7t0k3nAbCdEfGh', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', false, '2024-01-05 12:11:00.000000+00', '2024-01-05 12:11:00.000000+00', NULL, '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d');

INSERT INTO "auth"."mfa_amr_claims" ("session_id", "created_at", "updated_at", "authentication_method", "id") VALUES
	('9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', '2024-01-05 12:11:00.000000+00', '2024-01-05 12:11:00.000000+00', 'password', 'c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f');

INSERT INTO "auth"."mfa_factors" ("id", "user_id", "friendly_name", "factor_type", "status", "created_at", "updated_at", "secret", "phone", "last_challenged_at", "web_authn_credential", "web_authn_aaguid") VALUES
	('d4c3b2a1-0f9e-4d8c-b7a6-958473625140', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', 'phone app', 'totp', 'verified', '2024-01-05 12:12:00.000000+00', '2024-01-05 12:12:00.000000+00', 'JBSWY3DPEHPK3PXP', NULL, NULL, NULL, NULL);

INSERT INTO "auth"."mfa_challenges" ("id", "factor_id", "created_at", "verified_at", "ip_address", "otp_code", "web_authn_session_data") VALUES
	('e5d4c3b2-a1f0-4e9d-8c7b-a69584736251', 'd4c3b2a1-0f9e-4d8c-b7a6-958473625140', '2024-01-05 12:12:30.000000+00', '2024-01-05 12:12:40.000000+00', '203.0.113.7', NULL, NULL);

INSERT INTO "auth"."flow_state" ("id", "user_id", "auth_code", "code_challenge_method", "code_challenge", "provider_type", "provider_access_token", "provider_refresh_token", "created_at", "updated_at", "authentication_method", "auth_code_issued_at") VALUES
	('f6e5d4c3-b2a1-4f0e-9d8c-7b6a59483726', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', 's256', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'github', NULL, NULL, '2024-01-05 12:13:00.000000+00', '2024-01-05 12:13:00.000000+00', 'oauth', NULL);

INSERT INTO "auth"."one_time_tokens" ("id", "user_id", "token_type", "token_hash", "relates_to", "created_at", "updated_at") VALUES
	('a7f6e5d4-c3b2-4a1f-8e9d-c7b6a5948372', '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', 'recovery_token', '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8', 'grace@example.com', '2024-01-05 12:14:00', '2024-01-05 12:14:00');

INSERT INTO "auth"."sso_providers" ("id", "resource_id", "created_at", "updated_at") VALUES
	('b8a7f6e5-d4c3-4b2a-9f8e-d7c6b5a49483', 'example-idp', '2024-01-05 12:15:00.000000+00', '2024-01-05 12:15:00.000000+00');

INSERT INTO "auth"."sso_domains" ("id", "sso_provider_id", "domain", "created_at", "updated_at") VALUES
	('c9b8a7f6-e5d4-4c3b-8a9f-e8d7c6b5a494', 'b8a7f6e5-d4c3-4b2a-9f8e-d7c6b5a49483', 'example.com', '2024-01-05 12:15:00.000000+00', '2024-01-05 12:15:00.000000+00');

INSERT INTO "auth"."saml_providers" ("id", "sso_provider_id", "entity_id", "metadata_xml", "metadata_url", "attribute_mapping", "created_at", "updated_at", "name_id_format") VALUES
	('dac9b8a7-f6e5-4d4c-9b8a-f9e8d7c6b5a4', 'b8a7f6e5-d4c3-4b2a-9f8e-d7c6b5a49483', 'https://idp.example.com/metadata', '<EntityDescriptor entityID="https://idp.example.com/metadata"/>', NULL, '{"keys": {}}', '2024-01-05 12:15:00.000000+00', '2024-01-05 12:15:00.000000+00', NULL);

INSERT INTO "auth"."saml_relay_states" ("id", "sso_provider_id", "request_id", "for_email", "redirect_to", "created_at", "updated_at", "flow_state_id") VALUES
	('ebdac9b8-a7f6-4e5d-8c9b-a0f9e8d7c6b5', 'b8a7f6e5-d4c3-4b2a-9f8e-d7c6b5a49483', 'id-7f3e9a', 'grace@example.com', NULL, '2024-01-05 12:16:00.000000+00', '2024-01-05 12:16:00.000000+00', 'f6e5d4c3-b2a1-4f0e-9d8c-7b6a59483726');

INSERT INTO "auth"."audit_log_entries" ("instance_id", "id", "payload", "created_at", "ip_address") VALUES
	('00000000-0000-0000-0000-000000000000', 'fcebdac9-b8a7-4f6e-9d4c-b1a0f9e8d7c6', '{"action":"login","actor_id":"6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01","actor_username":"grace@example.com","actor_via_sso":false,"log_type":"account"}', '2024-01-05 12:11:00.000000+00', '');

INSERT INTO "public"."orders" ("id", "customer_id", "total_cents", "created_at") VALUES
	(1, '6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01', 4200, '2024-01-05 12:20:00.000000+00');

SELECT pg_catalog.setval('"auth"."refresh_tokens_id_seq"', 41, true);

SELECT pg_catalog.setval('"public"."orders_id_seq"', 1, true);

RESET ALL;
