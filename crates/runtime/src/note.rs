//! What `confine run` tells the user on the way, as values: the binary prints each with
//! `eprintln!("{note}")` when it arises.

use confine_kernel::spawn::Stage;

/// A note for the user's terminal; its text (Display) is the line `confine run` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// `--security-opt seccomp-verify`: the program was proved to decide as the policy.
    SeccompProved {
        /// The cases the proof split the inputs into.
        cases: u64,
    },
    /// A diagnostic of the seccomp profile's parser (an unconfined profile's says that it
    /// confines nothing).
    SeccompDiagnostic(String),
    /// `--security-opt label=…` is accepted and ignored, as Docker does without SELinux.
    LabelIgnored {
        /// The option as given.
        option: String,
    },
    /// AppArmor is not enabled: the command runs without a profile.
    AppArmorNotEnabled {
        /// Why it is not.
        why: String,
    },
    /// Before Landlock ABI 6, keeping the command from tracing the init takes a domain that
    /// also forbids mount(2).
    LandlockBeforeScopes {
        /// The running kernel's Landlock ABI.
        abi: u32,
    },
    /// no_new_privs is set though not asked for (confine lacks CAP_SYS_ADMIN).
    NoNewPrivsNeeded,
    /// A user namespace would map only confine's own ids: a Landlock domain instead.
    UserNamespaceMapsOnlyOwnIds {
        /// confine's uid.
        uid: u32,
        /// confine's gid.
        gid: u32,
        /// The uid asked for.
        want_uid: u32,
        /// The gid asked for.
        want_gid: u32,
    },
    /// The bounding set keeps capabilities Docker would drop.
    BoundingSetKept {
        /// How many.
        count: u32,
    },
    /// A diagnostic of the policy file (or of its lowering: a widened glob).
    PolicyDiagnostic(String),
    /// `capability.allowedCapabilities` took capabilities away from the grant.
    PolicyCapabilities {
        /// The policy.
        file: String,
        /// What it took away.
        removed: String,
    },
    /// Under `--landlock-compat best-effort`, a right or rule left out.
    LandlockDropped {
        /// The policy.
        file: String,
        /// What was left out, and why.
        what: String,
    },
    /// Landlock restricts execve(2), not what an allowed program (the dynamic loader) loads.
    ExecuteViaLoader {
        /// The policy.
        file: String,
    },
    /// Which LSM enforces the policy, and what.
    PolicyEnforced {
        /// The policy.
        file: String,
        /// `Landlock (ABI 7, require)`, `AppArmor (profile NAME)`, or both.
        by: String,
        /// What is enforced.
        summary: String,
    },
    /// The record of the Landlock policy (for `confine inspect`) could not be written.
    NoRecord {
        /// Why.
        why: String,
    },
    /// No user namespace could be set up: a Landlock domain instead.
    NoUserNamespace {
        /// The step that failed.
        stage: Stage,
        /// Its error.
        error: String,
    },
}

impl Note {
    /// Whether this is a diagnostic of the user's own input (the seccomp profile), shown even
    /// with `--quiet`, rather than a note about what confine chose.
    pub fn is_diagnostic(&self) -> bool {
        matches!(
            self,
            Note::SeccompDiagnostic(_) | Note::PolicyDiagnostic(_) | Note::LandlockDropped { .. }
        )
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::SeccompDiagnostic(d) => write!(f, "{d}"),
            Note::SeccompProved { cases } => write!(f, "confine: seccomp-verify: proved: the program decides exactly as the profile's policy for every input ({cases} cases)"),
            Note::LabelIgnored { option } => write!(f, "confine: note: --security-opt {option}: SELinux labels do not apply (confine does not use SELinux); ignored"),
            Note::AppArmorNotEnabled { why } => {
                write!(f, "confine: {why}: running without an AppArmor profile")
            }
            Note::LandlockBeforeScopes { abi } => write!(f, "confine: note: Landlock ABI {abi} (before 6) keeps the command from tracing confine's init only with a domain that also forbids mount(2)"),
            Note::NoNewPrivsNeeded => write!(f, "confine: note: setting no_new_privs: without CAP_SYS_ADMIN the seccomp filter and the Landlock domain need it"),
            Note::UserNamespaceMapsOnlyOwnIds { uid, gid, want_uid, want_gid } => write!(f, "confine: note: a user namespace would map only {uid}:{gid}, not {want_uid}:{want_gid} and its groups: isolating the command with a Landlock domain instead"),
            Note::BoundingSetKept { count } => write!(f, "confine: note: the bounding set keeps {count} capabilities Docker would drop (dropping needs CAP_SETPCAP); no_new_privs keeps the command from gaining them"),
            Note::PolicyDiagnostic(d) => write!(f, "{d}"),
            Note::PolicyCapabilities { file, removed } => write!(f, "confine: note: policy {file}: capability.allowedCapabilities leaves out {removed}"),
            Note::LandlockDropped { file, what } => write!(f, "confine: warning: policy {file}: dropped (best-effort): {what}"),
            Note::ExecuteViaLoader { file } => write!(f, "confine: note: policy {file}: Landlock limits execve(2) only: a program it allows (the dynamic loader) can still load and run any file it may read (`ld.so FILE`)"),
            Note::PolicyEnforced { file, by, summary } => write!(f, "confine: policy {file}: enforced by {by}: {summary}"),
            Note::NoRecord { why } => write!(f, "confine: note: no record of the Landlock policy for confine inspect: {why}"),
            Note::NoUserNamespace { stage, error } => write!(f, "confine: note: no user namespace here ({} failed: {error}): isolating the command with a Landlock domain instead", stage.describe()),
        }
    }
}

/// Where notes go as they arise.
pub type Notes<'a> = &'a mut dyn FnMut(Note);
