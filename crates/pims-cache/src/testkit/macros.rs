//! [`store_conformance_tests!`](crate::store_conformance_tests): one `#[test]` per case of
//! every suite, over a factory.

/// Generates one `#[test]` per case of the kit's suites, each running the case over the store
/// factory `$factory` on a runtime the kit builds ([`testkit::run`](crate::testkit::run)): no
/// tokio macros needed in the calling crate.
///
/// It expands to four modules, `contract`, `rules`, `concurrency` and `model`, named for the
/// suites, in the module where it is called (call it in a module of its own to run it for
/// several factories). `$factory` is evaluated once per test, inside those modules, which
/// import everything of the calling module (`use super::*`).
///
/// ```
/// // tests/conformance.rs of a crate bringing a store: here the memory store, twice (the
/// // second time without its generation, as a store shared between processes).
/// use pims_cache::testkit::{MemoryFactory, WithoutGeneration};
///
/// mod memory {
///     pims_cache::store_conformance_tests!(pims_cache::testkit::MemoryFactory);
/// }
///
/// mod shared {
///     use super::*;
///     pims_cache::store_conformance_tests!(WithoutGeneration(MemoryFactory));
/// }
/// # fn main() {}
/// ```
///
/// Test names read `memory::rules::already_done_sticks_until_reset`; `cargo test memory::model`
/// runs one suite.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::__store_conformance_suite!($factory, contract: [
            a_new_store_is_empty,
            get_many_answers_every_key_in_order,
            get_following_reads_an_entry_and_the_one_it_names,
            compare_and_swap_replaces_only_the_expected_value,
            swap_all_makes_every_change_of_a_batch,
            swap_all_writes_nothing_when_one_key_differs,
            swap_all_refuses_a_key_named_twice,
            remove_returns_what_was_there,
            scan_stays_in_its_prefix_after_after_within_limit,
            a_paged_scan_sees_every_entry_once,
            the_generation_moves_with_every_change_only,
            flushed_changes_survive_a_reopen,
            the_device_id_kept_apart_is_the_first_one,
            the_epoch_stays_through_ordinary_operations,
        ]);
        $crate::__store_conformance_suite!($factory, rules: [
            already_done_sticks_until_reset,
            one_list_under_its_three_names,
            a_new_steps_id_for_the_same_car_association_replaces_the_old_list,
            a_vin_answered_with_another_list_carries_its_steps,
            a_car_association_merged_again_is_claimed_again,
            a_list_known_only_by_steps_id_gains_its_names_later,
            lookups_never_cross_accounts_or_devices,
            invalidate_device_drops_every_list_of_the_device,
            unknown_step_names_pass_through_and_stick,
            bad_keys_are_refused,
            unreadable_records_are_misses_and_are_removed,
            records_hold_only_the_list_and_its_identifiers,
            the_device_id_is_created_once,
            the_device_id_and_the_lists_survive_a_reopen,
            only_a_change_writes,
            wipe_empties_every_namespace,
            a_change_made_through_another_cache_on_the_same_store_is_seen_at_once,
            a_namespace_created_during_a_scan_keeps_its_list,
            a_merge_racing_a_reset_keeps_its_links,
            a_merge_racing_an_invalidation_keeps_its_links,
        ]);
        $crate::__store_conformance_suite!($factory, concurrency: [
            sixty_four_tasks_merging_one_list_keep_every_step,
            concurrent_changes_on_different_lists_are_all_kept,
            merges_racing_resets_and_invalidations_leave_consistent_links,
            compare_and_swaps_on_one_key_lose_no_increment,
            batches_over_two_keys_keep_their_sum,
            compare_and_swaps_racing_batches_lose_nothing,
        ]);
        $crate::__store_conformance_suite!($factory, model: [
            the_cache_behaves_like_the_model,
        ]);
    };
}

/// One suite's module of [`store_conformance_tests!`](crate::store_conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_suite {
    ($factory:expr, $suite:ident: [$($case:ident),* $(,)?]) => {
        mod $suite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $case() {
                    let factory = $factory;
                    $crate::testkit::run($crate::testkit::$suite::$case(&factory));
                }
            )*
        }
    };
}
