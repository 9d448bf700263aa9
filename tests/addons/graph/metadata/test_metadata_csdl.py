"""The CSDL reader: OData CSDL rules (defaults, aliases, annotations) on small documents."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from graphtape.addons.graph.metadata.csdl import read_csdl
from graphtape.addons.graph.metadata.errors import GraphMetadataError

HEAD = (
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>'
    '<Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">'
)
TAIL = "</Schema></edmx:DataServices></edmx:Edmx>"


def _csdl(tmp_path: Path, body: str, *, bom: bool = False) -> Path:
    path = tmp_path / "doc.csdl.xml"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + (HEAD + body + TAIL).encode("utf-8"))
    return path


def test_nullable_defaults_to_true_and_aliases_resolve(tmp_path: Path) -> None:
    doc = read_csdl(
        _csdl(
            tmp_path,
            '<ComplexType Name="a"><Property Name="x" Type="Edm.String" />'
            '<Property Name="y" Type="Collection(graph.b)" Nullable="false" /></ComplexType>'
            '<ComplexType Name="b" />',
        )
    )
    x, y = doc.structured["microsoft.graph.a"].properties
    assert (x.nullable, str(x.type)) == (True, "Edm.String")
    assert (y.nullable, y.type.name, y.type.collection) == (False, "microsoft.graph.b", True)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    # Microsoft's v1.0 file starts with one.
    doc = read_csdl(_csdl(tmp_path, '<EnumType Name="e"><Member Name="m" /></EnumType>', bom=True))
    assert doc.enums["microsoft.graph.e"].members == (("m", 0),)


@pytest.mark.parametrize(
    ("annotations", "navigable", "indexable", "insertable"),
    [
        ("", True, True, True),
        (
            (
                '<Annotation Term="Org.OData.Capabilities.V1.NavigationRestrictions"><Record>'
                '<PropertyValue Property="Navigability" EnumMember="Org.OData.Capabilities.V1.NavigationType/None" />'
                "</Record></Annotation>"
            ),
            False,
            True,
            True,
        ),
        ('<Annotation Term="Org.OData.Capabilities.V1.IndexableByKey" Bool="false" />', True, False, True),
        (
            # RestrictedProperties without a NavigationProperty path restrict the property itself.
            (
                '<Annotation Term="Org.OData.Capabilities.V1.NavigationRestrictions"><Record>'
                '<PropertyValue Property="RestrictedProperties"><Collection><Record>'
                '<PropertyValue Property="IndexableByKey" Bool="false" /></Record></Collection></PropertyValue>'
                "</Record></Annotation>"
            ),
            True,
            False,
            True,
        ),
        (
            (
                '<Annotation Term="Org.OData.Capabilities.V1.InsertRestrictions"><Record>'
                '<PropertyValue Property="Insertable" Bool="false" /></Record></Annotation>'
            ),
            True,
            True,
            False,
        ),
    ],
    ids=["none", "navigability-none", "indexable-false", "restricted-properties", "insertable-false"],
)
def test_capability_annotations_inline_and_out_of_line(
    tmp_path: Path, annotations: str, navigable: bool, indexable: bool, insertable: bool
) -> None:
    entity = '<EntityType Name="t"><NavigationProperty Name="n" Type="Collection(graph.t)" ContainsTarget="true">{}'
    inline = read_csdl(_csdl(tmp_path, entity.format(annotations) + "</NavigationProperty></EntityType>"))
    outside = read_csdl(
        _csdl(
            tmp_path,
            entity.format("")
            + "</NavigationProperty></EntityType>"
            + f'<Annotations Target="microsoft.graph.t/n">{annotations}</Annotations>',
        )
    )
    for doc in (inline, outside):
        (nav,) = doc.structured["microsoft.graph.t"].navigation
        assert (nav.navigable, nav.indexable_by_key, nav.insertable) == (navigable, indexable, insertable)


def test_the_stricter_navigability_wins(tmp_path: Path) -> None:
    restriction = (
        '<Annotation Term="Org.OData.Capabilities.V1.NavigationRestrictions"><Record>'
        '<PropertyValue Property="Navigability"><EnumMember>Org.OData.Capabilities.V1.NavigationType/{}'
        "</EnumMember></PropertyValue></Record></Annotation>"
    )
    doc = read_csdl(
        _csdl(
            tmp_path,
            '<EntityType Name="t"><NavigationProperty Name="n" Type="graph.t" ContainsTarget="true">'
            + restriction.format("Single")
            + '</NavigationProperty></EntityType><Annotations Target="graph.t/n">'
            + restriction.format("None")
            + "</Annotations>",
        )
    )
    assert doc.structured["microsoft.graph.t"].navigation[0].navigability == "None"


def test_derived_types_and_inherited_navigation(tmp_path: Path) -> None:
    doc = read_csdl(
        _csdl(
            tmp_path,
            '<EntityType Name="base" Abstract="true"><NavigationProperty Name="n" Type="graph.base" /></EntityType>'
            '<EntityType Name="mid" BaseType="graph.base" />'
            '<EntityType Name="leaf" BaseType="graph.mid" OpenType="true" HasStream="true" />',
        )
    )
    assert doc.subtypes("microsoft.graph.base") == ["microsoft.graph.mid", "microsoft.graph.leaf"]
    assert [n.name for n in doc.all_navigation("microsoft.graph.leaf")] == ["n"]
    leaf = doc.structured["microsoft.graph.leaf"]
    assert (leaf.open, leaf.has_stream, leaf.abstract) == (True, True, False)
    assert doc.is_a("microsoft.graph.leaf", "microsoft.graph.base")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            '<EntityType Name="a" BaseType="graph.b" /><EntityType Name="b" BaseType="graph.a" />',
            "type microsoft.graph",
        ),
        ('<EnumType Name="e"><Member Name="m" Value="x" /></EnumType>', "EnumType e member m"),
        ('<Action Name="act" IsBound="true" />', "Action act"),
    ],
    ids=["base-cycle", "enum-value", "unbound-binding"],
)
def test_malformed_documents_are_reported_with_the_element(tmp_path: Path, body: str, where: str) -> None:
    with pytest.raises(GraphMetadataError) as error:
        doc = read_csdl(_csdl(tmp_path, body))
        doc.base_chain("microsoft.graph.a")
    assert where in str(error.value) and "doc.csdl.xml" in str(error.value)


def test_not_a_csdl_document(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_text("<root/>", encoding="utf-8")
    with pytest.raises(GraphMetadataError, match="no <Schema> element"):
        read_csdl(path)
