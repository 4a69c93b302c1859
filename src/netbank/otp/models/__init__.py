"""The otp app's models, one module per capability; every model is re-exported here so
``netbank.otp.models.Token`` and Django's app registry (app label ``otp``) see them all."""

from netbank.otp.models.activation import ActivationSession
from netbank.otp.models.channel import ChannelApiKey
from netbank.otp.models.direct_login import DirectLoginTicket
from netbank.otp.models.token import Token

__all__ = ["ActivationSession", "ChannelApiKey", "DirectLoginTicket", "Token"]
