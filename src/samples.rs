//! The samples, built into the binary so the welcome screen can open them wherever the app is installed.

use crate::model::{Design, LoadError, load_from_str};

/// A sample design.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Its file name without the extension, as in `samples/`.
    pub id: &'static str,
    /// What it shows (the design's name).
    pub title: &'static str,
    /// The `.syncopate` file's text.
    pub json: &'static str,
}

impl Sample {
    /// The sample's design.
    pub fn design(&self) -> Result<Design, LoadError> {
        load_from_str(
            self.json,
            &format!("{}.syncopate (built-in sample)", self.id),
        )
    }
}

/// Every sample, the synchronous e-commerce design first (the guide starts from it).
pub const SAMPLES: [Sample; 10] = [
    Sample {
        id: "ecommerce",
        title: "E-commerce: checkout and admin dashboard, all synchronous behind one HTTP edge",
        json: include_str!("../samples/ecommerce.syncopate"),
    },
    Sample {
        id: "payment-guarded",
        title: "Payment path guarded by timeouts, retries and a circuit breaker",
        json: include_str!("../samples/payment-guarded.syncopate"),
    },
    Sample {
        id: "order-saga",
        title: "Order saga: sync inventory check, async payment through a broker",
        json: include_str!("../samples/order-saga.syncopate"),
    },
    Sample {
        id: "travel-booking",
        title: "Travel booking saga: flight and hotel can be cancelled, the prepaid car is the pivot",
        json: include_str!("../samples/travel-booking.syncopate"),
    },
    Sample {
        id: "ocr-pipeline",
        title: "Asynchronous OCR pipeline",
        json: include_str!("../samples/ocr-pipeline.syncopate"),
    },
    Sample {
        id: "iot-ingest",
        title: "Write-heavy IoT ingest through a Kafka log",
        json: include_str!("../samples/iot-ingest.syncopate"),
    },
    Sample {
        id: "weather-api",
        title: "Read-heavy public weather API",
        json: include_str!("../samples/weather-api.syncopate"),
    },
    Sample {
        id: "parallel-orchestrator",
        title: "Orchestrator making parallel calls (home screen BFF)",
        json: include_str!("../samples/parallel-orchestrator.syncopate"),
    },
    Sample {
        id: "event-choreography",
        title: "Event choreography over a bus",
        json: include_str!("../samples/event-choreography.syncopate"),
    },
    Sample {
        id: "cqrs",
        title: "CQRS: a write side streaming changes to a read side",
        json: include_str!("../samples/cqrs.syncopate"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_sample_loads_and_is_the_file_in_samples() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "syncopate"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = SAMPLES.iter().map(|s| s.id.to_owned()).collect();
        built_in.sort();
        assert_eq!(built_in, on_disk, "every sample is offered, and only those");
        for sample in SAMPLES {
            let design = sample.design().unwrap();
            assert_eq!(design.name, sample.title);
        }
    }
}
