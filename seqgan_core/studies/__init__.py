"""Studies: many runs as one experiment (a base config × axes × seeds), their executors and results."""
from .methods import METHODS
from .spec import StudySpec, expand, load_spec, spec_from_dict
from .study import Study, create_study, study_path

__all__ = ["METHODS", "Study", "StudySpec", "create_study", "expand", "load_spec", "spec_from_dict", "study_path"]
