#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    syncopate_fuzz::import_as(syncopate::import::Source::Compose, data);
});
