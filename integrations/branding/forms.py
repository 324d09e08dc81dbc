"""The form of Settings › Branding: the name, logo and privacy page the customer sees.

A logo is decoded with Pillow and re-encoded as a new PNG from its pixels alone: what
we store and serve is never the uploaded bytes (no SVG, no script, no metadata).
"""

import io
import warnings
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from integrations.forms.names import printable_name
from integrations.forms.widgets import BoundedTextInput
from integrations.redirect_urls import validate_origin

LOGO_MAX_BYTES = 1024 * 1024
# Refused before decoding: a small file can claim a huge canvas (a decompression bomb).
LOGO_MAX_SIDE = 4000
# What we keep: at most this tall and this wide, scaled down keeping the proportions.
LOGO_BOX = (1024, 256)
LOGO_FORMATS = {"PNG", "JPEG"}


def _refuse(message, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _too_large() -> ValidationError:
    message = _("The logo is too large: at most %(side)d × %(side)d pixels.")
    return _refuse(message % {"side": LOGO_MAX_SIDE}, "logo_dimensions")


def _open(data: bytes) -> Image.Image:
    """Decode `data`, a PNG or JPEG no larger than LOGO_MAX_SIDE, into RGB(A) pixels."""
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only these decoders are tried: an SVG, GIF or anything else is unidentified.
            image = Image.open(io.BytesIO(data), formats=sorted(LOGO_FORMATS))
            if image.format not in LOGO_FORMATS:
                raise _refuse(_("The logo must be a PNG or JPEG image."), "logo_format")
            if max(image.size) > LOGO_MAX_SIDE:
                raise _too_large()
            image.load()
            upright = ImageOps.exif_transpose(image)  # a phone's JPEG the right way up
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            return upright.convert("RGBA" if has_alpha else "RGB")
    except UnidentifiedImageError:
        raise _refuse(_("The logo must be a PNG or JPEG image."), "logo_format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large() from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Truncated or corrupt data (Pillow raises these while decoding).
        raise _refuse(
            _("The logo could not be read: the file is damaged or not really an image."),
            "logo_corrupt",
        ) from None


def logo_reencode(data: bytes) -> bytes:
    """Return `data` (a PNG or JPEG) as a new, metadata-free PNG within LOGO_BOX."""
    image = _open(data)
    image.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    # A new image from the pixels alone: no EXIF, ICC profile, text chunks or comments.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


class BrandingForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=100,
        required=False,
        strip=True,
        widget=BoundedTextInput,
        help_text=_("The name your customers know you by. Leave blank to use %(name)s."),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 1 MB. Shown at most 64 pixels high; we keep a copy."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    privacy_url = forms.URLField(
        label=_("Privacy page"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("The address of your privacy policy, linked from the customer's pages."),
    )

    redirect_origins = forms.CharField(
        label=_("Allowed redirect origins"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "One a line, such as https://app.example.com. When you list any, the redirect "
            "URLs of your integration and of your companies (set through the API) must "
            "start with one of them. Empty: any https address."
        ),
    )

    website_url = forms.URLField(
        label=_("Website"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_(
            "Your customers' way back to you: “Return to …” when they finish linking, and "
            "whom to ask when a link has expired (a redirect URL, when set, wins)."
        ),
    )

    def __init__(self, *args, organization_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["display_name"]
        field.help_text = field.help_text % {"name": organization_name}

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"]
        return printable_name(name) if name else ""

    def clean_logo(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise _refuse(_("The logo is too big: at most 1 MB."), "logo_size")
        return logo_reencode(upload.read())

    def clean_redirect_origins(self) -> str:
        origins = [validate_origin(line) for line in self.cleaned_data["redirect_origins"].split()]
        return "\n".join(dict.fromkeys(origins))

    def clean_website_url(self) -> str:
        url = self.cleaned_data["website_url"]
        if url and urlsplit(url).scheme != "https" and not settings.DEBUG:
            raise _refuse(_("The website must be an https:// address."), "website_https")
        return url

    def clean_privacy_url(self) -> str:
        url = self.cleaned_data["privacy_url"]
        if url and urlsplit(url).scheme != "https" and not settings.DEBUG:
            raise _refuse(_("The privacy page must be an https:// address."), "privacy_https")
        return url
