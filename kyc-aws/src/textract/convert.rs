//! The SDK's typed Textract output converted, member by member, into kyc-core's wire-shape model
//! (`kyc_core::document::textract`), so that kyc-core's normalisation reads it and the raw
//! response can be stored as JSON in the shape Textract sent.
//!
//! The conversion mirrors what kyc-core's own JSON parser makes of the same bytes: every member
//! both models share is carried over; enumerations go through their wire text (`as_str`), so a
//! value the SDK does not know (its `Unknown` variant, e.g. `ValueType` `Date` instead of
//! `DATE`) arrives as written; lists the SDK leaves unset become empty lists where kyc-core's
//! model defaults to empty. Members only one model has are dropped: the SDK's `Query` of a
//! block and `HumanLoopActivationOutput` (this adapter sends neither queries nor a human-loop
//! configuration). Integers are `i32` in the SDK and `u32` in kyc-core: a negative value (never
//! sent by Textract) becomes `None`.

use aws_sdk_textract::operation::analyze_document::AnalyzeDocumentOutput;
use aws_sdk_textract::operation::analyze_id::AnalyzeIdOutput;
use aws_sdk_textract::types as sdk;
use kyc_core::document::textract as model;

/// The `AnalyzeID` response of an SDK output.
pub fn analyze_id_response(output: &AnalyzeIdOutput) -> model::AnalyzeIdResponse {
    model::AnalyzeIdResponse {
        identity_documents: output
            .identity_documents()
            .iter()
            .map(identity_document)
            .collect(),
        document_metadata: output.document_metadata().map(document_metadata),
        analyze_id_model_version: output.analyze_id_model_version().map(str::to_owned),
    }
}

/// The `AnalyzeDocument` response of an SDK output.
pub fn analyze_document_response(output: &AnalyzeDocumentOutput) -> model::AnalyzeDocumentResponse {
    model::AnalyzeDocumentResponse {
        document_metadata: output.document_metadata().map(document_metadata),
        blocks: output.blocks().iter().map(block).collect(),
        analyze_document_model_version: output.analyze_document_model_version().map(str::to_owned),
    }
}

fn index(i: Option<i32>) -> Option<u32> {
    i.and_then(|i| u32::try_from(i).ok())
}

fn document_metadata(m: &sdk::DocumentMetadata) -> model::DocumentMetadata {
    model::DocumentMetadata {
        pages: index(m.pages()),
    }
}

fn identity_document(d: &sdk::IdentityDocument) -> model::IdentityDocument {
    model::IdentityDocument {
        document_index: index(d.document_index()),
        identity_document_fields: d
            .identity_document_fields()
            .iter()
            .map(identity_document_field)
            .collect(),
        // Absent and empty stay apart, as in the response.
        blocks: d.blocks.as_ref().map(|b| b.iter().map(block).collect()),
    }
}

fn identity_document_field(f: &sdk::IdentityDocumentField) -> model::IdentityDocumentField {
    model::IdentityDocumentField {
        r#type: f.r#type().map(detections),
        value_detection: f.value_detection().map(detections),
    }
}

fn detections(d: &sdk::AnalyzeIdDetections) -> model::AnalyzeIdDetections {
    model::AnalyzeIdDetections {
        text: d.text().to_owned(),
        normalized_value: d.normalized_value().map(|n| model::NormalizedValue {
            value: n.value().map(str::to_owned),
            value_type: n
                .value_type()
                .map(|t| model::ValueType::from(t.as_str().to_owned())),
        }),
        confidence: d.confidence(),
    }
}

fn block(b: &sdk::Block) -> model::Block {
    model::Block {
        block_type: b
            .block_type()
            .map(|t| model::BlockType::from(t.as_str().to_owned())),
        confidence: b.confidence(),
        text: b.text().map(str::to_owned),
        text_type: b
            .text_type()
            .map(|t| model::TextType::from(t.as_str().to_owned())),
        row_index: index(b.row_index()),
        column_index: index(b.column_index()),
        row_span: index(b.row_span()),
        column_span: index(b.column_span()),
        geometry: b.geometry().map(geometry),
        id: b.id().map(str::to_owned),
        relationships: b.relationships().iter().map(relationship).collect(),
        entity_types: b
            .entity_types()
            .iter()
            .map(|e| model::EntityType::from(e.as_str().to_owned()))
            .collect(),
        selection_status: b
            .selection_status()
            .map(|s| model::SelectionStatus::from(s.as_str().to_owned())),
        page: index(b.page()),
    }
}

fn relationship(r: &sdk::Relationship) -> model::Relationship {
    model::Relationship {
        // kyc-core's parser reads a missing `Type` as an unknown, empty one.
        r#type: r.r#type().map_or_else(
            || model::RelationshipType::Other(String::new()),
            |t| model::RelationshipType::from(t.as_str().to_owned()),
        ),
        ids: r.ids().to_vec(),
    }
}

fn geometry(g: &sdk::Geometry) -> model::Geometry {
    model::Geometry {
        bounding_box: g.bounding_box().map(|b| model::BoundingBox {
            width: b.width(),
            height: b.height(),
            left: b.left(),
            top: b.top(),
        }),
        polygon: g
            .polygon()
            .iter()
            .map(|p| model::Point { x: p.x(), y: p.y() })
            .collect(),
        rotation_angle: g.rotation_angle(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enumeration_values_arrive_as_written() {
        let out = AnalyzeDocumentOutput::builder()
            .blocks(
                sdk::Block::builder()
                    .block_type(sdk::BlockType::from("LAYOUT_SOMETHING_NEW"))
                    .entity_types(sdk::EntityType::Key)
                    .relationships(sdk::Relationship::builder().ids("x").build())
                    .page(-1)
                    .build(),
            )
            .build();
        let r = analyze_document_response(&out);
        let b = &r.blocks[0];
        assert_eq!(
            b.block_type,
            Some(model::BlockType::Other("LAYOUT_SOMETHING_NEW".into()))
        );
        assert_eq!(b.entity_types, vec![model::EntityType::Key]);
        assert_eq!(
            b.relationships[0].r#type,
            model::RelationshipType::Other(String::new())
        );
        assert_eq!(b.page, None, "a negative page is dropped");
    }

    #[test]
    fn both_spellings_of_the_date_value_type_are_dates() {
        for spelling in ["DATE", "Date"] {
            let d = sdk::AnalyzeIdDetections::builder()
                .text("1 JAN 1990")
                .normalized_value(
                    sdk::NormalizedValue::builder()
                        .value("1990-01-01T00:00:00")
                        .value_type(sdk::ValueType::from(spelling))
                        .build(),
                )
                .build()
                .unwrap();
            let m = detections(&d);
            assert_eq!(
                m.normalized_value.unwrap().value_type,
                Some(model::ValueType::Date(spelling.into()))
            );
        }
    }

    #[test]
    fn absent_and_empty_page_blocks_stay_apart() {
        let absent = sdk::IdentityDocument::builder().build();
        let empty = sdk::IdentityDocument::builder()
            .set_blocks(Some(Vec::new()))
            .build();
        assert_eq!(identity_document(&absent).blocks, None);
        assert_eq!(identity_document(&empty).blocks, Some(Vec::new()));
    }
}
