//! Arbitrary (and, via libFuzzer's mutations of the seed corpus, mutated) JSON Lines records
//! into verify and replay: never a panic; anything accepted re-exports to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_access_core::{verify, ErrorCode, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::replay(text) {
        Ok(p) => {
            let exported = p.export_record();
            let normalized = if text.ends_with('\n') {
                text.to_string()
            } else {
                format!("{text}\n")
            };
            assert_eq!(
                exported, normalized,
                "an accepted record must be exactly what the core writes"
            );
            assert_eq!(verify(text).unwrap(), p.record().len() as u64);
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::RecordTampered),
    }
});
