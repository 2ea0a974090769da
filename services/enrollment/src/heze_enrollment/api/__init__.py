"""HTTP API of the enrollment service."""

from heze_enrollment.api.credentials import router as credentials_router
from heze_enrollment.api.directory import router as directory_router
from heze_enrollment.api.holders import router as holders_router
from heze_enrollment.api.personal_data import router as personal_data_router
from heze_enrollment.api.programmes import router as programmes_router
from heze_enrollment.api.trainees import router as trainees_router

ROUTERS = (
    directory_router,
    programmes_router,
    trainees_router,
    credentials_router,
    holders_router,
    personal_data_router,
)
