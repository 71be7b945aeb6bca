//! A profile that confines nothing (fail-open), as Docker would read it: what to say about it.

use crate::model::{Action, Rule};

/// Why a profile with this default action and these rules confines nothing, or None when it
/// denies something: no defaultAction and no rules (Docker then runs without seccomp), or a
/// default that allows with every rule allowing too.
pub(crate) fn confines_nothing(default_action: Option<Action>, rules: &[Rule]) -> Option<String> {
    let allows = |a: Action| matches!(a, Action::Allow | Action::Log);
    Some(match default_action {
        None if rules.is_empty() => "the profile confines nothing: with no defaultAction and no rules, Docker runs the container without seccomp (an empty profile is not a strict one)".to_string(),
        Some(a) if allows(a) && rules.iter().all(|r| allows(r.action)) => format!(
            "the profile confines nothing: defaultAction is {a} and {}, so the filter denies no syscall{}",
            if rules.is_empty() {
                "there are no rules"
            } else {
                "every rule allows too"
            },
            if a == Action::Log || rules.iter().any(|r| r.action == Action::Log) {
                " (SCMP_ACT_LOG only logs)"
            } else {
                ""
            }
        ),
        _ => return None,
})
}
