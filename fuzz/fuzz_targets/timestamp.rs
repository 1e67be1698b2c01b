//! Timestamp parsing: never a panic; whatever parses formats canonically and parses back to
//! the same instant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_access_core::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Timestamp::parse_rfc3339(s) {
        let canonical = t.to_string();
        assert_eq!(Timestamp::parse_rfc3339(&canonical).unwrap(), t);
        assert_eq!(canonical.len(), 24);
    }
    if let Ok(ms) = s.trim().parse::<i64>() {
        if let Ok(t) = Timestamp::from_millis(ms) {
            assert_eq!(Timestamp::parse_rfc3339(&t.to_string()).unwrap(), t);
        }
    }
});
