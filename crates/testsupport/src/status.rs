//! Reading `/proc/PID/status` text (as `cat /proc/self/status` prints it, or as read from
//! procfs): `Key:\tvalue` lines.

use std::collections::BTreeMap;

/// Every `Key: value` line of `text` as a map from key to the value without surrounding
/// white space (later lines win, as no key repeats in a status file).
pub fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The value of the first `key:` line of `text`, without surrounding white space; `None`
/// without such a line.
pub fn get(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
}

/// The value of the `key:` line of `text`, without surrounding white space; empty without
/// such a line.
pub fn field(text: &str, key: &str) -> String {
    get(text, key).unwrap_or_default()
}
