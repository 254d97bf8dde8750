"""A class on one server: the teacher's key, signed tokens for students and viewers, the class rules
(quotas) and the register of students and shared runs. Pure Python: the app and the CLI both drive it.

Everything lives in <runs root>/.class/ (the run store's listing skips it: it holds no run.db):

    teacher.key   the teacher's key (mode 0600), made at first start unless SEQGAN_TEACHER_KEY is set
    class.json    the class: its id and join code, the rules, the students, the shared runs, start times
"""
from .keys import (LESSON, STUDENT, TEACHER, VIEWER, class_mode, ensure_key, is_teacher_key, key_path,
                   read_token, rotate_key, sign, teacher_key)
from .room import Room, Rules, preset_of, start_problems, schedule_problems

__all__ = ["LESSON", "STUDENT", "TEACHER", "VIEWER", "class_mode", "ensure_key", "is_teacher_key", "key_path",
           "read_token", "rotate_key", "sign", "teacher_key", "Room", "Rules", "preset_of", "start_problems",
           "schedule_problems"]
