"""Domain services: the rules of the programme, free of Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.i18n import Translator
from bot.services.activities import ActivityService
from bot.services.admin import AdminService
from bot.services.campaigns import CampaignService
from bot.services.certificates import CertificateService
from bot.services.messaging import BroadcastService, PreferenceService, ReminderService
from bot.services.people import PeopleService
from bot.services.points import CheckinService, PointsService
from bot.services.privacy import PrivacyService
from bot.services.reports import ReportService
from bot.services.requests import RequestService
from bot.services.rewards import RewardService
from bot.services.search import TalentSearch
from bot.services.teams import TeamService
from bot.settings import Settings
from storage.activities import ActivityRepository
from storage.campaigns import CampaignRepository
from storage.database import Database
from storage.outbox import BroadcastRepository, PreferenceRepository, ReminderRepository
from storage.points import PointsRepository
from storage.presses import PressRepository
from storage.privacy import PrivacyRepository
from storage.reports import ReportRepository
from storage.requests import RequestRepository
from storage.rewards import RewardRepository
from storage.roles import InvitationRepository, RoleRepository
from storage.stations import StationRepository
from storage.talents import TalentRepository
from storage.teams import TeamRepository


@dataclass(slots=True)
class Services:
    """Everything a handler may call, built once per application."""

    settings: Settings
    clock: Clock
    db: Database
    translator: Translator
    stations: StationRepository
    talents: TalentRepository
    roles: RoleRepository
    people: PeopleService
    admin: AdminService
    broadcast_rows: BroadcastRepository
    reminder_rows: ReminderRepository
    broadcasts: BroadcastService
    reminders: ReminderService
    preferences: PreferenceService
    activities: ActivityService
    checkins: CheckinService
    points: PointsService
    rewards: RewardService
    search: TalentSearch
    presses: PressRepository
    privacy: PrivacyService
    reports: ReportService
    certificates: CertificateService
    requests: RequestService
    teams: TeamService
    campaigns: CampaignService

    @classmethod
    def build(cls, settings: Settings, db: Database, clock: Clock) -> Services:
        """Wire repositories and services over one database."""
        translator = Translator(settings.default_locale)
        stations = StationRepository(db)
        talents = TalentRepository(db)
        roles = RoleRepository(db)
        invitations = InvitationRepository(db)
        broadcast_rows = BroadcastRepository(db)
        reminder_rows = ReminderRepository(db)
        reminders = ReminderService(reminders=reminder_rows, clock=clock)
        activity_rows = ActivityRepository(db)
        teams = TeamService(teams=TeamRepository(db), stations=stations, clock=clock)
        activities = ActivityService(
            activities=activity_rows,
            stations=stations,
            reminders=reminders,
            clock=clock,
            reminder_offsets=settings.reminders,
            teams=teams,
        )
        points = PointsRepository(db)
        search = TalentSearch(talents=talents, activities=activities, clock=clock)
        report_rows = ReportRepository(db)
        campaign_rows = CampaignRepository(db)
        reports = ReportService(
            reports=report_rows,
            stations=stations,
            clock=clock,
            tz=settings.tz,
            season_start=settings.season_month_day,
            campaigns=campaign_rows,
        )
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            translator=translator,
            stations=stations,
            talents=talents,
            roles=roles,
            people=PeopleService(
                talents=talents,
                translator=translator,
                admin_ids=settings.admin_ids,
                clock=clock,
            ),
            admin=AdminService(
                stations=stations, roles=roles, invitations=invitations, clock=clock
            ),
            broadcast_rows=broadcast_rows,
            reminder_rows=reminder_rows,
            broadcasts=BroadcastService(
                broadcasts=broadcast_rows,
                stations=stations,
                activities=activity_rows,
                clock=clock,
                teams=teams,
            ),
            reminders=reminders,
            preferences=PreferenceService(preferences=PreferenceRepository(db), clock=clock),
            activities=activities,
            checkins=CheckinService(
                points=points,
                activities=activities,
                search=search,
                reminders=reminders,
                clock=clock,
                early=timedelta(minutes=settings.checkin_early_minutes),
            ),
            points=PointsService(points=points, reminders=reminders, clock=clock),
            rewards=RewardService(
                rewards=RewardRepository(db), points=points, reminders=reminders, clock=clock
            ),
            search=search,
            presses=PressRepository(db),
            privacy=PrivacyService(
                privacy=PrivacyRepository(db), activities=activities, clock=clock
            ),
            reports=reports,
            certificates=CertificateService(reports=reports, clock=clock),
            requests=RequestService(
                requests=RequestRepository(db), activities=activities, clock=clock
            ),
            teams=teams,
            campaigns=CampaignService(
                campaigns=campaign_rows, reminders=reminders, clock=clock, tz=settings.tz
            ),
        )
