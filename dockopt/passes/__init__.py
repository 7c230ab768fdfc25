"""The code table: every pass, registered once, in the order they run."""
from __future__ import annotations

from .add_to_copy import AddToCopy
from .apk_no_cache import ApkNoCache
from .apt_lists_cleanup import AptListsCleanup
from .apt_missing_yes import AptMissingYes
from .apt_no_install_recommends import AptNoInstallRecommends
from .apt_not_apt_get import AptNotAptGet
from .apt_update_alone import AptUpdateAlone
from .base import Pass
from .bind_context import BindContext
from .cache_mounts import CacheMounts
from .copy_chown import CopyChown
from .copy_link import CopyLink
from .dockerignore import Dockerignore
from .gem_no_document import GemNoDocument
from .hoist_deps import HoistDeps
from .ignore_deleted import IgnoreDeleted
from .js_cache_clean import JsCacheClean
from .merge_runs import MergeRuns
from .multistage import Multistage
from .nonroot_user import NonrootUser
from .pip_no_cache import PipNoCacheDir
from .rpm_clean import RpmClean
from .scheduler import Scheduler
from .secrets import SecretInArgEnv
from .slim_base import SlimBase
from .stage_hygiene import BuildToolsInFinalStage, CopyWholeFilesystem, UnusedStage
from .wasted_space import WastedSpace

ALL_PASSES: list[type[Pass]] = [
    MergeRuns,
    AptUpdateAlone,
    AptMissingYes,
    AptListsCleanup,
    AptNotAptGet,
    AptNoInstallRecommends,
    ApkNoCache,
    PipNoCacheDir,
    JsCacheClean,
    RpmClean,
    GemNoDocument,
    CacheMounts,
    HoistDeps,
    CopyChown,
    AddToCopy,
    Dockerignore,
    WastedSpace,
    Scheduler,
    CopyLink,
    IgnoreDeleted,
    BindContext,
    Multistage,
    NonrootUser,
    CopyWholeFilesystem,
    BuildToolsInFinalStage,
    UnusedStage,
    SlimBase,
    SecretInArgEnv,
]


def by_code() -> dict[str, type[Pass]]:
    return {p.code: p for p in ALL_PASSES}
