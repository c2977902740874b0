//! Schema evolution: old versions of an event are upcast on read, never rewritten.
//!
//! Each event type has a current schema version ([`EventPayload::SCHEMA_VERSION`]). When a
//! payload changes shape, the old struct stays in the code as `FooV1`, the new one becomes
//! `Foo` with the next version, and one step `V1 -> V2` is registered. Reading a stored
//! v1 payload then walks the steps up to the current version; the stored bytes and the
//! hash chain over them are untouched.

use std::collections::HashMap;

use serde::{Serialize, de::DeserializeOwned};

use crate::{CodecError, EventRecord, codec};

/// A payload type with its name and current schema version in the log.
pub trait EventPayload: Serialize + DeserializeOwned {
    /// The event type name stored in the envelope.
    const EVENT_TYPE: &'static str;
    /// The schema version this build writes.
    const SCHEMA_VERSION: u16;
}

type Step = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, CodecError> + Send + Sync>;

/// The registered steps from each (event type, version) to the next version.
#[derive(Default)]
pub struct Upcasters {
    steps: HashMap<(String, u16), Step>,
}

impl Upcasters {
    /// No steps: every payload must already be at its current version.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers how a payload of `New`'s type at version `from` (decoded as `Old`) becomes
    /// version `from + 1`, whose shape is `Mid` (which is `New` itself for the last step).
    pub fn register<New, Old, Mid>(
        &mut self,
        from: u16,
        step: impl Fn(Old) -> Mid + Send + Sync + 'static,
    ) -> &mut Self
    where
        New: EventPayload,
        Old: DeserializeOwned,
        Mid: Serialize,
    {
        self.steps.insert(
            (New::EVENT_TYPE.to_owned(), from),
            Box::new(move |bytes| {
                let old: Old = codec::decode_payload(bytes)?;
                codec::encode_payload(&step(old))
            }),
        );
        self
    }

    /// Decodes a payload stored as `event_type` at `schema_version` as the current `E`.
    pub fn decode<E: EventPayload>(
        &self,
        event_type: &str,
        schema_version: u16,
        payload: &[u8],
    ) -> Result<E, CodecError> {
        if event_type != E::EVENT_TYPE {
            return Err(CodecError::WrongType {
                expected: E::EVENT_TYPE,
                found: event_type.to_owned(),
            });
        }
        if schema_version > E::SCHEMA_VERSION {
            return Err(CodecError::VersionAhead {
                event_type: event_type.to_owned(),
                found: schema_version,
                known: E::SCHEMA_VERSION,
            });
        }
        let mut version = schema_version;
        let mut lifted: Option<Vec<u8>> = None;
        while version < E::SCHEMA_VERSION {
            let step = self
                .steps
                .get(&(event_type.to_owned(), version))
                .ok_or_else(|| CodecError::MissingUpcaster {
                    event_type: event_type.to_owned(),
                    from: version,
                })?;
            lifted = Some(step(lifted.as_deref().unwrap_or(payload))?);
            version += 1;
        }
        codec::decode_payload(lifted.as_deref().unwrap_or(payload))
    }

    /// Decodes the payload of a stored record as the current `E`.
    pub fn decode_record<E: EventPayload>(&self, record: &EventRecord) -> Result<E, CodecError> {
        self.decode(
            record.event_type.as_str(),
            record.schema_version,
            &record.payload,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct GreetingV1 {
        text: String,
    }

    #[derive(Serialize, Deserialize)]
    struct GreetingV2 {
        text: String,
        shouted: bool,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Greeting {
        text: String,
        shouted: bool,
        language: String,
    }

    impl EventPayload for Greeting {
        const EVENT_TYPE: &'static str = "Greeting";
        const SCHEMA_VERSION: u16 = 3;
    }

    fn upcasters() -> Upcasters {
        let mut u = Upcasters::new();
        u.register::<Greeting, GreetingV1, GreetingV2>(1, |v1| GreetingV2 {
            shouted: v1.text.ends_with('!'),
            text: v1.text,
        })
        .register::<Greeting, GreetingV2, Greeting>(2, |v2| Greeting {
            text: v2.text,
            shouted: v2.shouted,
            language: "en".into(),
        });
        u
    }

    #[test]
    fn a_v1_payload_is_read_as_the_current_version_through_every_step() {
        let v1 = codec::encode_payload(&GreetingV1 { text: "hi!".into() }).expect("encodes");
        let read: Greeting = upcasters().decode("Greeting", 1, &v1).expect("upcasts");
        assert_eq!(
            read,
            Greeting {
                text: "hi!".into(),
                shouted: true,
                language: "en".into()
            }
        );
    }

    #[test]
    fn current_payloads_need_no_step_and_future_ones_are_refused() {
        let current = Greeting {
            text: "a".into(),
            shouted: false,
            language: "fr".into(),
        };
        let bytes = codec::encode_payload(&current).expect("encodes");
        assert_eq!(
            Upcasters::new()
                .decode::<Greeting>("Greeting", 3, &bytes)
                .expect("decodes"),
            current
        );
        let err = upcasters()
            .decode::<Greeting>("Greeting", 4, &bytes)
            .unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_SCHEMA_VERSION");
        let err = Upcasters::new()
            .decode::<Greeting>("Greeting", 1, &bytes)
            .unwrap_err();
        assert!(matches!(err, CodecError::MissingUpcaster { from: 1, .. }));
        let err = upcasters()
            .decode::<Greeting>("Other", 3, &bytes)
            .unwrap_err();
        assert!(matches!(err, CodecError::WrongType { .. }));
    }
}
