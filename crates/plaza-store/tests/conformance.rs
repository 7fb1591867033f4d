//! The store conformance suite: every case is written once, as an async fn over a fresh
//! [`harness::TestDb`], and runs as `sqlite::<case>` on a temporary SQLite file and as
//! `postgres::<case>` in a fresh schema of the PostgreSQL at `PLAZA_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`). An unreachable PostgreSQL fails the
//! PostgreSQL cases; `PLAZA_SKIP_POSTGRES=1` skips them with a warning.

#[path = "conformance/apps.rs"]
mod apps;
#[path = "conformance/audit.rs"]
mod audit;
#[path = "conformance/backend_specific.rs"]
mod backend_specific;
#[path = "conformance/fixtures.rs"]
mod fixtures;
#[path = "conformance/harness.rs"]
#[macro_use]
mod harness;
#[path = "conformance/instances.rs"]
mod instances;
#[path = "conformance/orgs.rs"]
mod orgs;
#[path = "conformance/policies.rs"]
mod policies;
#[path = "conformance/registry.rs"]
mod registry;
#[path = "conformance/scans.rs"]
mod scans;
#[path = "conformance/setup.rs"]
mod setup;
#[path = "conformance/supply.rs"]
mod supply;
#[path = "conformance/supply_services.rs"]
mod supply_services;
#[path = "conformance/teams.rs"]
mod teams;
#[path = "conformance/tokens.rs"]
mod tokens;
#[path = "conformance/usage.rs"]
mod usage;
#[path = "conformance/users.rs"]
mod users;

conformance! {
    supply::publisher_keys_round_trip_rotate_and_revoke,
    supply::advisory_imports_replace_and_remove_all_or_nothing,
    scans::scans_keep_history_and_replace_indexes,
    scans::rescan_writes_notifications_and_blocks_all_or_nothing,
    scans::supply_settings_default_and_are_replaced_audited,
    scans::jobs_are_claimed_once_leased_and_reclaimed_after_a_crash,
    scans::concurrent_claims_never_share_a_job,
    scans::imports_and_revocations_enqueue_their_job_all_or_nothing,
    supply_services::vex_statements_suppress_findings_in_the_gate_and_the_rescan,
    supply_services::gate_import_revocation_and_rescan_end_to_end,
    supply_services::a_job_of_a_crashed_worker_is_reclaimed_after_the_lease,
    supply_services::provenance_levels_timestamps_and_failing_jobs,
    orgs::orgs_are_created_read_and_listed_by_slug,
    orgs::an_unknown_org_is_not_found,
    orgs::a_duplicate_org_slug_conflicts,
    orgs::create_org_with_admin_writes_all_and_three_records,
    orgs::create_org_with_admin_with_a_clashing_user_leaves_nothing,
    orgs::create_org_with_admin_with_a_taken_slug_leaves_nothing,
    teams::teams_are_created_read_and_listed_by_slug,
    teams::a_duplicate_team_slug_conflicts,
    teams::a_team_of_an_unknown_org_is_not_found,
    teams::an_unknown_team_slug_is_not_found,
    teams::members_are_added_listed_and_removed,
    teams::team_settings_default_and_are_replaced_audited,
    teams::membership_rules_are_enforced,
    users::users_are_created_found_and_listed_by_handle,
    users::an_unknown_user_is_not_found,
    users::user_conflicts_and_missing_orgs_are_reported,
    users::role_sets_round_trip,
    users::set_user_roles_replaces_the_set,
    tokens::tokens_are_found_by_hash_and_listed_newest_first,
    tokens::a_token_is_revoked_once,
    tokens::token_rules_are_enforced,
    apps::app_versions_round_trip_and_list_in_registration_order,
    apps::app_version_conflicts_and_missing_things_are_reported,
    instances::instances_round_trip_and_are_listed_by_org_app_and_team,
    instances::instance_creation_rules_are_enforced,
    instances::updates_apply_only_at_the_next_revision,
    instances::uninstall_revokes_the_instances_downstream_credentials_only,
    instances::grant_uses_keep_the_latest_time_per_kind_and_name,
    instances::published_signing_keys_come_back_exactly_newest_first,
    instances::downstream_credentials_are_found_by_hash,
    audit::appended_records_are_chained_from_genesis,
    audit::list_audit_honours_every_filter,
    audit::the_chain_verifies_after_mixed_operations,
    audit::a_failed_change_leaves_no_record_and_no_head_change,
    audit::concurrent_writers_keep_the_chain_intact,
    audit::the_database_refuses_to_change_or_delete_audit_records,
    audit::an_edited_record_breaks_the_chain_there,
    audit::a_deleted_middle_record_breaks_the_chain,
    audit::swapped_records_break_the_chain,
    audit::a_deleted_last_record_is_caught_by_the_head,
    audit::timestamps_round_trip_at_millisecond_precision,
    policies::policy_versions_round_trip_and_list_newest_first,
    policies::policy_versions_must_be_exactly_the_next_number,
    policies::the_policy_mode_defaults_to_enforce_and_can_be_set,
    policies::exceptions_are_created_read_and_listed_newest_first,
    policies::an_exception_is_revoked_once_and_its_expiry_recorded_once,
    policies::decisions_are_logged_filtered_and_listed_newest_first,
    policies::decision_lists_are_capped_at_a_thousand,
    policies::decision_rules_are_enforced,
    policies::the_database_refuses_to_change_or_delete_decisions,
    policies::the_chain_verifies_after_mixed_policy_operations,
    registry::manifests_are_pushed_read_and_resolved,
    registry::namespace_blobs_are_the_distinct_links_under_one_org,
    registry::a_tag_moves_and_a_repush_only_repoints_it,
    registry::tags_list_in_byte_order_and_an_unknown_repository_is_not_found,
    registry::deleting_a_manifest_removes_its_tags_and_blob_references,
    registry::a_tag_is_deleted_not_its_manifest,
    registry::referrers_are_listed_by_subject_in_the_same_repository_oldest_first,
    registry::blobs_are_linked_per_repository_without_audit,
    registry::referenced_digests_are_links_manifests_and_references_once_each,
    registry::repositories_are_listed_in_byte_order,
    registry::registry_changes_are_audited_with_their_entries,
    registry::the_chain_verifies_after_mixed_registry_operations,
    registry::upload_sessions_belong_to_the_repository_that_opened_them,
    usage::usage_is_counted_once_and_conflicts_are_logged_not_counted,
    usage::dead_letters_are_kept_per_org_oldest_first,
    usage::batches_larger_than_one_statement_dedup_within_and_across_chunks,
    usage::rollups_match_the_reference_aggregation_with_corrections,
    usage::rollups_by_version_and_instance_set_match_the_reference_across_an_upgrade,
    usage::corrections_of_unknown_or_mismatched_events_are_refused,
    usage::sequence_ranges_and_period_markers_are_kept_per_instance,
    usage::dead_letters_are_replayed_once_and_then_hidden,
    setup::migrations_are_idempotent_on_reconnect,
    setup::a_database_from_a_newer_plaza_is_refused,
    setup::the_store_answers_ping_and_names_its_backend,
}
