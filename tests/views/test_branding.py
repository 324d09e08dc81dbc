"""Settings › Branding: the logo upload (decoded, re-encoded as PNG), who may change it, its URL."""

import io
import struct
import zlib
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageCms, PngImagePlugin

from portal.organizations.models import Organization

pytestmark = pytest.mark.django_db

BRANDING = reverse("integrations:branding")
MARKER = "gps-and-camera-serial-4242"


def image_bytes(fmt: str, size=(600, 300), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else 0).save(out, format=fmt, **save)
    return out.getvalue()


def exif_with_marker() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = MARKER  # ImageDescription
    exif[0x0112] = 1  # Orientation
    return exif.tobytes()


# A colour profile: Pillow would copy it into a PNG saved from the decoded image.
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER)
    return image_bytes("PNG", pnginfo=info, exif=exif_with_marker(), icc_profile=ICC)


def jpeg_with_metadata() -> bytes:
    return image_bytes("JPEG", exif=exif_with_marker(), comment=MARKER.encode(), icc_profile=ICC)


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims `width` × `height` pixels (a decompression bomb)."""
    png = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = png[12:29]  # type + data of the first chunk
    ihdr[4:12] = struct.pack(">II", width, height)
    png[12:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(png)


def chunk_types(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    types, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        types.append(png[at + 4 : at + 8])
        at += 12 + length
    return types


def upload(client, data: bytes, name: str, content_type: str = "image/png", **fields):
    logo = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(BRANDING, {"display_name": "", "privacy_url": "", "logo": logo, **fields})


def stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (png_with_metadata(), "logo.png", "image/png"),
        (jpeg_with_metadata(), "photo.jpg", "image/jpeg"),
    ],
    ids=["png", "jpeg"],
)
def test_png_and_jpeg_are_stored_as_a_new_png_without_their_metadata(
    admin_client, org_a, media_root, data, name, content_type
):
    assert MARKER.encode() in data

    response = upload(admin_client, data, name, content_type, display_name="  Alpha   Pay ")

    assert response.status_code == HTTPStatus.FOUND
    org_a.refresh_from_db()
    assert org_a.display_name == "Alpha Pay"
    stored = org_a.logo.read()
    assert chunk_types(stored) == [b"IHDR", b"IDAT", b"IEND"]
    assert MARKER.encode() not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "PNG"
    assert image.size == (512, 256)  # scaled down to 256 pixels high
    assert not image.info
    assert org_a.logo.name == f"logos/{org_a.pk}/{org_a.logo_version}.png"
    assert [p.name for p in stored_files(media_root)] == [f"{org_a.logo_version}.png"]


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
NOT_AN_IMAGE = "The logo must be a PNG or JPEG image."
TOO_LARGE = "The logo is too large: at most 4000 × 4000 pixels."


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (SVG, "logo.svg", "image/svg+xml", NOT_AN_IMAGE),
        (SVG, "logo.png", "image/png", NOT_AN_IMAGE),
        (image_bytes("GIF", mode="P"), "logo.gif", "image/gif", NOT_AN_IMAGE),
        (image_bytes("WEBP"), "logo.png", "image/png", NOT_AN_IMAGE),
        (b"Just some text, renamed.\n" * 10, "notes.png", "image/png", NOT_AN_IMAGE),
        (png_with_metadata()[:400], "cut.png", "image/png", "The logo could not be read"),
        (png_claiming(30000, 30000), "bomb.png", "image/png", TOO_LARGE),  # Pillow's own limit
        (png_claiming(5000, 200), "wide.png", "image/png", TOO_LARGE),  # ours
        (png_with_metadata() + b"\0" * (1024 * 1024), "big.png", "image/png", "at most 1 MB"),
    ],
    ids=["svg", "svg-renamed", "gif", "webp", "text", "truncated", "bomb", "too-wide", "1mb"],
)
def test_other_files_are_refused_and_nothing_changes(
    admin_client, org_a, media_root, data, name, content_type, message
):
    response = upload(admin_client, data, name, content_type, display_name="Changed")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    org_a.refresh_from_db()
    assert (org_a.display_name, org_a.logo.name) == ("", "")
    assert stored_files(media_root) == []


def test_a_new_logo_replaces_the_old_one_and_its_url(
    admin_client, client, org_a, media_root, django_capture_on_commit_callbacks
):
    upload(admin_client, png_with_metadata(), "one.png")
    org_a.refresh_from_db()
    old_url = reverse("integrations:brand_logo", args=[org_a.pk, org_a.logo_version])

    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, image_bytes("PNG", size=(100, 100)), "two.png")

    org_a.refresh_from_db()
    assert len(stored_files(media_root)) == 1  # the old file is gone
    assert client.get(old_url).status_code == HTTPStatus.NOT_FOUND
    new_url = reverse("integrations:brand_logo", args=[org_a.pk, org_a.logo_version])
    assert new_url != old_url
    assert client.get(new_url).status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(BRANDING, {"display_name": "", "privacy_url": "", "remove_logo": "on"})
    org_a.refresh_from_db()
    assert not org_a.logo
    assert stored_files(media_root) == []


def test_the_logo_is_served_as_a_png_that_is_never_sniffed(admin_client, client, org_a):
    upload(admin_client, jpeg_with_metadata(), "photo.jpg", "image/jpeg")
    org_a.refresh_from_db()

    response = client.get(reverse("integrations:brand_logo", args=[org_a.pk, org_a.logo_version]))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == org_a.logo.read()


def test_a_logo_url_names_one_organization(admin_client, client, org_a, org_b):
    upload(admin_client, png_with_metadata(), "logo.png")
    org_a.refresh_from_db()

    # Org A's logo hash under org B's id (org B has no logo, or another one): not found.
    stolen = reverse("integrations:brand_logo", args=[org_b.pk, org_a.logo_version])
    assert client.get(stolen).status_code == HTTPStatus.NOT_FOUND
    guessed = reverse("integrations:brand_logo", args=[org_a.pk, "0" * 20])
    assert client.get(guessed).status_code == HTTPStatus.NOT_FOUND


def test_an_admin_changes_only_their_own_organization(client, org_a, org_b):
    client.force_login(org_b.admin)
    upload(client, png_with_metadata(), "logo.png", display_name="Beta Pay")

    org_a.refresh_from_db()
    org_b.refresh_from_db()
    assert (org_a.display_name, org_a.logo.name) == ("", "")
    assert org_b.display_name == "Beta Pay"
    assert org_b.logo.name.startswith(f"logos/{org_b.pk}/")


def test_a_member_reads_the_branding_but_cannot_change_it(member_client, org_a, media_root):
    page = member_client.get(BRANDING)
    assert page.status_code == HTTPStatus.OK
    assert b'data-testid="branding-read-only"' in page.content
    assert b'type="file"' not in page.content

    response = upload(member_client, png_with_metadata(), "logo.png", display_name="Hijack")

    assert response.status_code == HTTPStatus.FORBIDDEN
    org_a.refresh_from_db()
    assert (org_a.display_name, org_a.logo.name) == ("", "")
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("url", "saved"),
    [
        ("https://alpha.example/privacy", "https://alpha.example/privacy"),
        ("alpha.example/privacy", "https://alpha.example/privacy"),
        ("http://alpha.example/privacy", None),
        ("javascript:alert(1)", None),
    ],
)
def test_the_privacy_page_is_an_https_address(admin_client, org_a, url, saved):
    response = admin_client.post(BRANDING, {"display_name": "", "privacy_url": url})

    org_a.refresh_from_db()
    if saved:
        assert response.status_code == HTTPStatus.FOUND
        assert org_a.privacy_url == saved
    else:
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert org_a.privacy_url == ""


def test_the_page_is_in_the_settings_navigation(admin_client):
    page = admin_client.get(BRANDING).content.decode()
    assert f'<a href="{BRANDING}" aria-current="page">Branding</a>' in page


def test_the_display_name_falls_back_to_the_name(org_a):
    assert org_a.public_name == "Alpha Ltd"
    Organization.objects.filter(pk=org_a.pk).update(display_name="Alpha Pay")
    org_a.refresh_from_db()
    assert org_a.public_name == "Alpha Pay"


def test_support_cannot_store_a_logo_through_the_admin(client, make_user, org_a):
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )
    page = client.get(reverse("admin:portal_organization_change", args=[org_a.pk]))
    assert page.status_code == HTTPStatus.OK
    assert b'name="logo"' not in page.content
    assert b'name="display_name"' in page.content
