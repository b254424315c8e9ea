//! 站点预约: stations, their duty rosters and closures, bookings, the waitlist, and the outbox
//! the notifications module reads (booking reminders and changes, written in the transaction
//! that causes them).
//!
//! No overbooking at the storage level too: a booking holds a seat number, and a partial
//! unique index allows one seat-holding booking per (station, start, seat). The booking
//! transaction takes the lowest free seat after locking the station row; if two writers ever
//! raced past that, the index would refuse the second.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
    Name,
    Unit,
    Address,
    Region,
    Phone,
    Audiences,
    Hours,
    Note,
    SlotMinutes,
    BreakMinutes,
    Seats,
    BookingWindowDays,
    MinNoticeHours,
    CancelHours,
    Active,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum StationCounselors {
    Table,
    StationId,
    StaffId,
}

#[derive(DeriveIden)]
enum StationClosures {
    Table,
    StationId,
    Date,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    StationId,
    UserId,
    StartAt,
    EndAt,
    LocalDate,
    Seat,
    Status,
    Name,
    Phone,
    Note,
    CancelReason,
    PromotedAt,
    AttendanceBy,
    Rating,
    RatingComment,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BookingWaitlist {
    Table,
    Id,
    StationId,
    UserId,
    StartAt,
    Status,
    BookingId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Event,
    UserId,
    BookingId,
    IdempotencyKey,
    DueAt,
    Status,
    Attempts,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

fn id<C: IntoIden>(col: C) -> ColumnDef {
    ColumnDef::new(col).string_len(36).to_owned()
}

fn at<C: IntoIden>(col: C) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().to_owned()
}

const PARTIAL_INDEXES: [(&str, &str); 3] = [
    (
        "idx_bookings_seat",
        "CREATE UNIQUE INDEX idx_bookings_seat ON bookings (station_id, start_at, seat) \
         WHERE status <> 'cancelled'",
    ),
    (
        "idx_waitlist_one_per_person",
        "CREATE UNIQUE INDEX idx_waitlist_one_per_person ON booking_waitlist \
         (station_id, start_at, user_id) WHERE status = 'waiting'",
    ),
    (
        "idx_outbox_due",
        "CREATE INDEX idx_outbox_due ON outbox (due_at) WHERE status = 'pending'",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let small = |col: Stations| ColumnDef::new(col).small_integer().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Stations::Table)
                    .col(id(Stations::Id).not_null().primary_key())
                    .col(ColumnDef::new(Stations::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Stations::Unit).string_len(64).not_null())
                    .col(ColumnDef::new(Stations::Address).string_len(255).null())
                    .col(ColumnDef::new(Stations::Region).string_len(32).not_null())
                    .col(ColumnDef::new(Stations::Phone).string_len(20).null())
                    .col(
                        ColumnDef::new(Stations::Audiences)
                            .string_len(128)
                            .not_null(),
                    )
                    // JSON, the hotline shape: {"kind":"weekly","windows":[…]} | {"kind":"unknown"}
                    .col(ColumnDef::new(Stations::Hours).text().not_null())
                    .col(ColumnDef::new(Stations::Note).string_len(512).null())
                    .col(small(Stations::SlotMinutes))
                    .col(small(Stations::BreakMinutes))
                    .col(small(Stations::Seats))
                    .col(small(Stations::BookingWindowDays))
                    .col(small(Stations::MinNoticeHours))
                    .col(small(Stations::CancelHours))
                    .col(ColumnDef::new(Stations::Active).boolean().not_null())
                    .col(at(Stations::CreatedAt).not_null())
                    .col(at(Stations::UpdatedAt).not_null())
                    .col(at(Stations::DeletedAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StationCounselors::Table)
                    .col(id(StationCounselors::StationId).not_null())
                    .col(id(StationCounselors::StaffId).not_null())
                    .primary_key(
                        Index::create()
                            .col(StationCounselors::StationId)
                            .col(StationCounselors::StaffId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StationCounselors::Table, StationCounselors::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StationCounselors::Table, StationCounselors::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StationClosures::Table)
                    .col(id(StationClosures::StationId).not_null())
                    // China calendar date, YYYY-MM-DD.
                    .col(
                        ColumnDef::new(StationClosures::Date)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StationClosures::Reason)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(at(StationClosures::CreatedAt).not_null())
                    .primary_key(
                        Index::create()
                            .col(StationClosures::StationId)
                            .col(StationClosures::Date),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StationClosures::Table, StationClosures::StationId)
                            .to(Stations::Table, Stations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(id(Bookings::Id).not_null().primary_key())
                    .col(id(Bookings::StationId).not_null())
                    // NULL once the person deleted their account (the row stays for figures).
                    .col(id(Bookings::UserId).null())
                    .col(at(Bookings::StartAt).not_null())
                    .col(at(Bookings::EndAt).not_null())
                    .col(
                        ColumnDef::new(Bookings::LocalDate)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Bookings::Seat).small_integer().not_null())
                    .col(ColumnDef::new(Bookings::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Bookings::Name).string_len(64).null())
                    .col(ColumnDef::new(Bookings::Phone).string_len(20).null())
                    .col(ColumnDef::new(Bookings::Note).string_len(512).null())
                    .col(ColumnDef::new(Bookings::CancelReason).string_len(32).null())
                    .col(at(Bookings::PromotedAt).null())
                    .col(id(Bookings::AttendanceBy).null())
                    .col(ColumnDef::new(Bookings::Rating).small_integer().null())
                    .col(
                        ColumnDef::new(Bookings::RatingComment)
                            .string_len(512)
                            .null(),
                    )
                    .col(at(Bookings::CreatedAt).not_null())
                    .col(at(Bookings::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Bookings::Table, Bookings::StationId)
                            .to(Stations::Table, Stations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Bookings::Table, Bookings::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_bookings_user",
                vec![Bookings::UserId, Bookings::StartAt],
            ),
            (
                "idx_bookings_station_day",
                vec![Bookings::StationId, Bookings::LocalDate],
            ),
            ("idx_bookings_start", vec![Bookings::StartAt]),
        ] {
            let mut index = Index::create().name(name).table(Bookings::Table).to_owned();
            for c in cols {
                index.col(c);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BookingWaitlist::Table)
                    .col(id(BookingWaitlist::Id).not_null().primary_key())
                    .col(id(BookingWaitlist::StationId).not_null())
                    .col(id(BookingWaitlist::UserId).null())
                    .col(at(BookingWaitlist::StartAt).not_null())
                    .col(
                        ColumnDef::new(BookingWaitlist::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(id(BookingWaitlist::BookingId).null())
                    .col(at(BookingWaitlist::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookingWaitlist::Table, BookingWaitlist::StationId)
                            .to(Stations::Table, Stations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookingWaitlist::Table, BookingWaitlist::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_waitlist_slot")
                    .table(BookingWaitlist::Table)
                    .col(BookingWaitlist::StationId)
                    .col(BookingWaitlist::StartAt)
                    .col(BookingWaitlist::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_waitlist_user")
                    .table(BookingWaitlist::Table)
                    .col(BookingWaitlist::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(id(Outbox::Id).not_null().primary_key())
                    .col(ColumnDef::new(Outbox::Event).string_len(32).not_null())
                    .col(id(Outbox::UserId).not_null())
                    .col(id(Outbox::BookingId).null())
                    // One message per event and person from our side.
                    .col(
                        ColumnDef::new(Outbox::IdempotencyKey)
                            .string_len(128)
                            .not_null()
                            .unique_key(),
                    )
                    .col(at(Outbox::DueAt).not_null())
                    // pending | sent | failed
                    .col(ColumnDef::new(Outbox::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                    .col(ColumnDef::new(Outbox::LastError).string_len(255).null())
                    .col(at(Outbox::CreatedAt).not_null())
                    .col(at(Outbox::SentAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_booking")
                    .table(Outbox::Table)
                    .col(Outbox::BookingId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for (_, sql) in PARTIAL_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Outbox::Table.into_iden(),
            BookingWaitlist::Table.into_iden(),
            Bookings::Table.into_iden(),
            StationClosures::Table.into_iden(),
            StationCounselors::Table.into_iden(),
            Stations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
