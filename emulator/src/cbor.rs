//! The little CBOR that Smithy RPC v2 CBOR needs: requests decoded into JSON
//! values (a tag-1 timestamp becomes its epoch seconds), answers and errors
//! encoded with minicbor.

use minicbor::data::{IanaTag, Tag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Number, Value};

const MAX_DEPTH: u32 = 32;

/// Decodes one CBOR item (definite or indefinite maps, arrays and strings).
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut decoder = Decoder::new(bytes);
    item(&mut decoder, 0).map_err(|err| format!("could not decode the CBOR body: {err}"))
}

fn item(d: &mut Decoder<'_>, depth: u32) -> Result<Value, minicbor::decode::Error> {
    if depth > MAX_DEPTH {
        return Err(minicbor::decode::Error::message("nested too deeply"));
    }
    Ok(match d.datatype()? {
        Type::Map | Type::MapIndef => {
            let len = d.map()?;
            let mut map = serde_json::Map::new();
            let mut n = 0;
            loop {
                match len {
                    Some(len) if n == len => break,
                    None if d.datatype()? == Type::Break => {
                        d.skip()?;
                        break;
                    }
                    _ => {}
                }
                let key = match item(d, depth + 1)? {
                    Value::String(key) => key,
                    other => other.to_string(),
                };
                map.insert(key, item(d, depth + 1)?);
                n += 1;
            }
            Value::Object(map)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array()?;
            let mut items = Vec::new();
            loop {
                match len {
                    Some(len) if items.len() as u64 == len => break,
                    None if d.datatype()? == Type::Break => {
                        d.skip()?;
                        break;
                    }
                    _ => {}
                }
                items.push(item(d, depth + 1)?);
            }
            Value::Array(items)
        }
        Type::String | Type::StringIndef => {
            let mut text = String::new();
            for chunk in d.str_iter()? {
                text.push_str(chunk?);
            }
            Value::String(text)
        }
        Type::Bool => Value::Bool(d.bool()?),
        Type::Null | Type::Undefined => {
            d.skip()?;
            Value::Null
        }
        Type::F16 | Type::F32 | Type::F64 => {
            Number::from_f64(d.f64()?).map_or(Value::Null, Value::Number)
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => Value::from(d.i64()?),
        Type::Tag => {
            // Tag 1 (epoch seconds) and any other tag: its content.
            d.tag()?;
            item(d, depth + 1)?
        }
        _ => {
            d.skip()?;
            Value::Null
        }
    })
}

/// One series of a GetMetricData answer.
pub(crate) struct Series {
    pub(crate) id: String,
    pub(crate) label: String,
    /// `(epoch seconds, value)`, in the order to answer them.
    pub(crate) points: Vec<(i64, f64)>,
}

/// `{"MetricDataResults": [...], "Messages": []}`.
pub(crate) fn metric_data_body(results: &[Series]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    let infallible = "writing to a Vec cannot fail";
    e.map(2).expect(infallible);
    e.str("MetricDataResults").expect(infallible);
    e.array(results.len() as u64).expect(infallible);
    for series in results {
        e.map(5).expect(infallible);
        e.str("Id")
            .expect(infallible)
            .str(&series.id)
            .expect(infallible);
        e.str("Label").expect(infallible);
        e.str(&series.label).expect(infallible);
        e.str("Timestamps").expect(infallible);
        e.array(series.points.len() as u64).expect(infallible);
        for (time, _) in &series.points {
            e.tag(Tag::from(IanaTag::Timestamp)).expect(infallible);
            e.i64(*time).expect(infallible);
        }
        e.str("Values").expect(infallible);
        e.array(series.points.len() as u64).expect(infallible);
        for (_, value) in &series.points {
            e.f64(*value).expect(infallible);
        }
        e.str("StatusCode").expect(infallible);
        e.str("Complete").expect(infallible);
    }
    e.str("Messages")
        .expect(infallible)
        .array(0)
        .expect(infallible);
    e.into_writer()
}

/// An RPC v2 CBOR error: `{"__type": CODE, "message": MESSAGE}`.
pub(crate) fn error_body(code: &str, message: &str) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    let infallible = "writing to a Vec cannot fail";
    e.map(2).expect(infallible);
    e.str("__type")
        .expect(infallible)
        .str(code)
        .expect(infallible);
    e.str("message")
        .expect(infallible)
        .str(message)
        .expect(infallible);
    e.into_writer()
}
