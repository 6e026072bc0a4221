#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    syncopate_fuzz::load_design(data);
});
