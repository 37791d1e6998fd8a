"""Every recognizer, one per entity type."""

from privet.detection.recognizers.base import Recognizer
from privet.detection.recognizers.contact import EmailRecognizer, PhoneRecognizer, SocialHandleRecognizer
from privet.detection.recognizers.dates import DateOfBirthRecognizer
from privet.detection.recognizers.finance import CardRecognizer, IbanRecognizer
from privet.detection.recognizers.national_id import NationalIdRecognizer
from privet.detection.recognizers.network import IpRecognizer
from privet.detection.recognizers.people import PersonNameRecognizer, PostalAddressRecognizer

ALL: tuple[Recognizer, ...] = (
    EmailRecognizer(),
    IbanRecognizer(),
    CardRecognizer(),
    IpRecognizer(),
    NationalIdRecognizer(),
    PhoneRecognizer(),
    DateOfBirthRecognizer(),
    SocialHandleRecognizer(),
    PostalAddressRecognizer(),
    PersonNameRecognizer(),
)

__all__ = ["ALL", "Recognizer"]
