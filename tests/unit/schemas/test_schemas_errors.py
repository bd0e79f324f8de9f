"""flatten_errors and the error classes: dotted paths as API.md section 1 defines them."""

from schemas.errors import (
    InvalidParameterError,
    ProfileError,
    SchemaError,
    SchemaValidationError,
    flatten_errors,
)


def test_nested_dicts_become_dotted_paths():
    messages = {"contact": {"email": ["Must be a valid email address."]}}
    assert flatten_errors(messages, "payload") == {
        "payload.contact.email": ["Must be a valid email address."]
    }


def test_list_indexes_become_path_segments():
    messages = {"concern_categories": {0: ["Must be one of: a, b."], 3: ["x"]}}
    assert flatten_errors(messages, "payload") == {
        "payload.concern_categories.0": ["Must be one of: a, b."],
        "payload.concern_categories.3": ["x"],
    }


def test_schema_key_belongs_to_the_enclosing_path():
    messages = {"subject": {"_schema": ["Must hold exactly one of bsn or pseudonym."]}}
    assert flatten_errors(messages) == {"subject": ["Must hold exactly one of bsn or pseudonym."]}


def test_top_level_paths_without_prefix_are_bare_names():
    assert flatten_errors({"recipient": ["bad"], "purpose": ["worse"]}) == {
        "recipient": ["bad"],
        "purpose": ["worse"],
    }


def test_schema_error_with_prefix_lands_on_the_prefix():
    assert flatten_errors({"_schema": ["Must be a JSON object."]}, "payload") == {
        "payload": ["Must be a JSON object."]
    }


def test_whole_body_error_without_prefix_is_reported_under_body():
    assert flatten_errors({"_schema": ["Must be a JSON object."]}) == {
        "body": ["Must be a JSON object."]
    }


def test_plain_string_and_duplicates():
    assert flatten_errors({"a": ["m", "m"], "b": "single"}) == {"a": ["m"], "b": ["single"]}


def test_a_key_that_is_not_a_field_name_is_not_echoed():
    # A sender could use a BSN as a key; the path must not repeat it.
    messages = {"123456782": ["Unknown field."], "contact": {"bad key!": ["Unknown field."]}}
    flat = flatten_errors(messages, "payload")
    assert flat == {"payload": ["Unknown field."], "payload.contact": ["Unknown field."]}
    assert not any("123456782" in path for path in flat)


def test_validation_error_carries_code_and_paths_not_values():
    error = SchemaValidationError({"subject.bsn": ["is not a valid BSN"]})
    assert isinstance(error, SchemaError)
    assert error.code == "validation_failed"
    assert error.errors == {"subject.bsn": ["is not a valid BSN"]}
    assert "subject.bsn" in str(error)


def test_codes_of_the_other_errors():
    assert InvalidParameterError({"limit": ["x"]}).code == "invalid_parameter"
    assert issubclass(InvalidParameterError, SchemaValidationError)
    assert ProfileError("x").code == "invalid_profile"
