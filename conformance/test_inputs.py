"""Non-text inputs and reasoning: each needs a declared capability."""

from __future__ import annotations

from anyllm.testing.cases import case
from anyllm.testing.harness import output_text
from conformance.common import pdf_data_url, png_data_url


@case("image-input", requires=("image_input",), official="image-input", feature="input_image")
def test_image_input(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What colour is this image? One word."},
                    {"type": "input_image", "image_url": png_data_url()},
                ],
            }
        ],
        max_output_tokens=32,
    )
    conformance_validator.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")


@case("file-input", requires=("file_input",), feature="input_file")
def test_file_input(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is the secret word in this file?"},
                    {"type": "input_file", "filename": "note.pdf", "file_data": pdf_data_url()},
                ],
            }
        ],
        max_output_tokens=32,
    )
    conformance_validator.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")


@case("reasoning-items", requires=("reasoning",), feature="reasoning items")
def test_reasoning_items(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        "If a train leaves at 3pm and travels 2 hours, when does it arrive?",
        reasoning={"effort": "low", "summary": "auto"},
        max_output_tokens=512,
    )
    kinds = [item.get("type") for item in response.get("output") or []]
    conformance_validator.expect(
        "reasoning" in kinds, "CASE-REASONING-ITEM", f"a reasoning item ({kinds})", "$.output"
    )
    if "reasoning" in kinds and "message" in kinds:
        conformance_validator.expect(
            kinds.index("reasoning") < kinds.index("message"),
            "CASE-REASONING-ORDER",
            "reasoning comes before the message",
            "$.output",
        )


@case("streaming-reasoning", requires=("reasoning", "streaming"), feature="streamed reasoning")
def test_streaming_reasoning(anyllm_client, conformance_validator):
    result = anyllm_client.stream(
        "What is 17 * 3? Think first.", reasoning={"effort": "low"}, max_output_tokens=512
    )
    added = [e for e in result.events if e.get("type") == "response.output_item.added"]
    kinds = [(e.get("item") or {}).get("type") for e in added]
    conformance_validator.expect(
        "reasoning" in kinds, "CASE-REASONING-ITEM", f"a reasoning item is streamed ({kinds})"
    )
