from itsm_doctor.cli import app

app()
