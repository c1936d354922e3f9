"""The stream's decisions, line by line, with a clock the test moves (no pty, no waiting)."""

from __future__ import annotations

import pytest

from fablabctl.machines.marlin_protocol import classify, parse_numbered
from fablabctl.machines.marlin_stream import Acked, Action, Done, Failed, LineFlow, Write, encode

TIMEOUT = 2.0


class Firmware:
    """Feeds firmware lines to a flow at a given time and collects what it decides."""

    def __init__(self, flow: LineFlow) -> None:
        self.flow, self.now = flow, 100.0

    def says(self, *lines: str) -> list[Action]:
        actions: list[Action] = []
        for line in lines:
            actions += self.flow.feed(classify(line), self.now)
        return actions

    def later(self, seconds: float) -> list[Action]:
        self.now += seconds
        return self.flow.tick(self.now)


def started(commands: int = 3, **kwargs: float) -> tuple[LineFlow, Firmware]:
    """A flow after M110 N0 and `commands` acknowledged lines; the next submit is line commands+1."""
    flow = LineFlow(ok_timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
    fw = Firmware(flow)
    flow.submit("M110 N0", fw.now, number=0)
    assert fw.says("ok") == [Done(0)]
    for i in range(1, commands + 1):
        assert flow.submit(f"G1 X{i}", fw.now) == Write(i, f"G1 X{i}")
        assert fw.says("ok") == [Done(i)]
    return flow, fw


def test_ok_acknowledges_the_line_in_flight() -> None:
    flow, fw = started()
    assert flow.submit("G1 X9", fw.now) == Write(4, "G1 X9")
    assert fw.says("ok N3 P15 B3") == []  # Marlin's ADVANCED_OK for another line: not ours
    assert fw.says("ok N4 P15 B3") == [Done(4)]
    assert not flow.busy
    assert fw.says("ok") == []  # a late ok with nothing in flight changes nothing


@pytest.mark.parametrize(
    "error",
    [
        "Error:checksum mismatch, Last Line: 3",
        "Error:No Checksum with line number, Last Line: 3",
        "Error:Line Number is not Last Line Number+1, Last Line: 3",
        "Error: expected line 4 got 14",
        "Error: Missing checksum",
        "Error:format error",
    ],
)
def test_a_garbled_line_is_resent_once_and_the_ok_of_the_request_is_not_taken_for_its_ack(error: str) -> None:
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    assert fw.says(error, "Resend: 4") == []
    assert fw.says("ok") == [Write(4, "G1 X4", again=True)]  # the request's own ok clears the resend
    assert fw.says("T:200.00 /200.00 B:60.00 /60.00 @:0 B@:0", 'echo:Unknown command: "M9999"') == []
    assert fw.says("ok") == [Done(4)]


def test_resend_without_an_error_line_and_the_rs_wording() -> None:
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    assert fw.says("rs N4", "ok") == [Write(4, "G1 X4", again=True)]
    assert fw.says("ok") == [Done(4)]


def test_a_firmware_that_says_no_ok_after_resend_is_answered_after_a_short_grace() -> None:
    flow, fw = started(ok_grace=0.15)
    flow.submit("G1 X4", fw.now)
    assert fw.says("Error:checksum mismatch, Last Line: 3", "Resend: 4") == []
    assert fw.later(0.1) == []
    assert fw.later(0.1) == [Write(4, "G1 X4", again=True)]  # Marlin 2.0.9 printed no ok here
    assert fw.says("ok") == [Done(4)]


def test_an_error_without_resend_is_answered_at_the_next_sign_of_the_firmware() -> None:
    """Marlin 1.x / Prusa: `No Line Number with checksum` and nothing else but `wait` and reports."""
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    assert fw.says("Error:No Line Number with checksum, Last Line: 3") == []
    assert fw.says("wait") == [Write(4, "G1 X4", again=True)]
    assert fw.says("wait", "wait", "ok") == [Done(4)]


def test_repeated_resend_requests_for_the_line_being_resent_are_ignored() -> None:
    """OctoPrint's virtual printer with repetierStyleResends (and Repetier) ask twice."""
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    assert fw.says("Error: Checksum mismatch", "Resend:4", "ok") == [Write(4, "G1 X4", again=True)]
    assert fw.says("Resend:4", "ok") == []  # the repeat and its own ok
    assert fw.says("ok") == [Done(4)]
    assert flow.resends == 1


def test_a_request_for_the_line_after_the_one_in_flight_acknowledges_it() -> None:
    """The firmware got line 4 twice (its ok was lost, the host resent it): it asks for 5, unsent."""
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    assert fw.says("Error:Line Number is not Last Line Number+1, Last Line: 4", "Resend: 5") == []
    assert fw.says("ok") == [Done(4)]
    assert flow.submit("G1 X5", fw.now) == Write(5, "G1 X5")  # and the stream goes on normally
    assert fw.says("ok") == [Done(5)]


def test_a_request_for_a_line_never_sent_fails_the_stream_cleanly() -> None:
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    (failed,) = fw.says("Resend: 40", "ok")
    assert isinstance(failed, Failed) and failed.code == "MARLIN_RESEND_UNSENT"
    assert "40" in failed.reason.fr and "jamais été envoyée" in failed.reason.fr


def test_a_request_for_an_earlier_line_resends_from_the_history_in_order() -> None:
    """The firmware's counter is the authority: it ran everything before 2 and nothing after."""
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    assert fw.says("Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok") == [
        Write(2, "G1 X2", again=True)
    ]
    assert fw.says("ok") == [Write(3, "G1 X3", again=True)]
    assert fw.says("ok") == [Write(4, "G1 X4", again=True)]
    assert fw.says("ok") == [Done(4)]


def test_a_request_older_than_the_history_fails_the_stream() -> None:
    flow, fw = started(commands=10, history=4)
    flow.submit("G1 X11", fw.now)
    (failed,) = fw.says("Resend: 2", "ok")
    assert isinstance(failed, Failed) and failed.code == "MARLIN_RESEND_TOO_OLD"


def test_no_ack_resends_the_line_once_then_fails_and_other_lines_do_not_reset_the_deadline() -> None:
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    for _ in range(3):  # a wait storm, temperature reports, echo: none of them is an acknowledgement
        fw.now += 0.6
        assert fw.says("wait", "T:20.00 /0.00 B:20.00 /0.00 @:0 B@:0", "echo:SD card ok") == []
    assert fw.later(0.3) == [Write(4, "G1 X4", again=True)]  # 2.1 s after the line was written
    assert fw.says("wait") == []
    assert fw.later(TIMEOUT - 0.01) == []
    (failed,) = fw.later(0.02)
    assert isinstance(failed, Failed) and failed.code == "MARLIN_NO_ACK"
    assert "ligne 4" in failed.reason.fr and "G1 X4" in failed.reason.fr
    flow.abandon()
    assert flow.wake_at() is None


def test_busy_extends_the_deadline() -> None:
    flow, fw = started()
    flow.submit("G1 X200 F100", fw.now)
    for _ in range(10):  # 15 s of a slow move, a keep-alive every 1.5 s
        assert fw.later(1.5) == []
        assert fw.says("echo:busy: processing") == []
    assert fw.says("ok") == [Done(4)]


def test_long_running_commands_get_the_long_timeout() -> None:
    """Homing on a firmware without `busy:`: not a lost line, as long as it ends in `long_timeout`."""
    flow, fw = started(long_timeout=60.0)
    flow.submit("G28", fw.now)
    assert fw.later(59.0) == []
    assert fw.later(1.0) == [Write(4, "G28", again=True)]
    (failed,) = fw.later(60.0)
    assert isinstance(failed, Failed) and "120 s" in failed.reason.en


def test_temperature_reports_extend_the_deadline_only_while_heating_and_waiting() -> None:
    flow, fw = started(long_timeout=0)  # only the reports keep it alive here
    flow.submit("M109 S210", fw.now)  # Marlin waits without busy:, printing the temperature
    for _ in range(10):
        assert fw.later(1.0) == []
        assert fw.says("T:150.2 E:0 W:?") == []
    assert fw.says("ok") == [Done(4)]
    flow.submit("G1 X5", fw.now)
    fw.now += 1.5
    assert fw.says("T:210.00 /210.00 B:60.00 /60.00 @:0 B@:0") == []
    assert fw.later(0.6) == [Write(5, "G1 X5", again=True)]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("Error:Thermal Runaway, system stopped! Heater_ID: 0", "MARLIN_THERMAL_RUNAWAY"),
        ("Error:Printer halted. kill() called!", "MARLIN_HALTED"),
        ("start", "MARLIN_RESTARTED"),
    ],
)
def test_a_fatal_line_fails_at_once(line: str, code: str) -> None:
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    (failed,) = fw.says(line)
    assert isinstance(failed, Failed) and failed.code == code and failed.reason.fr


def test_a_line_refused_again_and_again_fails_instead_of_looping() -> None:
    flow, fw = started(max_requests=5)
    flow.submit("G1 X4", fw.now)
    actions: list[Action] = []
    for _ in range(6):
        actions = fw.says("Error:checksum mismatch, Last Line: 3", "Resend: 4", "ok")
    (failed,) = actions
    assert isinstance(failed, Failed) and failed.code == "MARLIN_LINK_NOISE"


def test_a_firmware_booting_during_the_handshake_gets_m110_again() -> None:
    """Opening the port resets an Arduino board: `start` comes after our M110 was lost."""
    flow = LineFlow(ok_timeout=TIMEOUT)
    fw = Firmware(flow)
    assert flow.submit("M110 N0", fw.now, number=0) == Write(0, "M110 N0")
    assert fw.says("start") == []
    assert fw.later(0.2) == [Write(0, "M110 N0", again=True)]  # no `ok` came: M110 was lost
    assert fw.says("echo:Marlin 2.1.2.1", "ok") == [Done(0)]


def test_a_start_already_waiting_when_the_port_opened_is_followed_by_m110s_ok() -> None:
    """`start` read after M110 went out, then M110's own `ok`: one M110 ran, and line 1 is not
    acknowledged by a second `ok` (it was: the capabilities of M115 were then lost)."""
    flow = LineFlow(ok_timeout=TIMEOUT)
    fw = Firmware(flow)
    flow.submit("M110 N0", fw.now, number=0)
    assert fw.says("start", "echo:Marlin 2.1.2.1", "ok") == [Done(0)]
    assert flow.submit("M115", fw.now) == Write(1, "M115")
    assert fw.later(0.2) == []
    assert fw.says("FIRMWARE_NAME:Marlin", "ok") == [Done(1)]


def test_one_line_at_a_time() -> None:
    flow, fw = started()
    flow.submit("G1 X4", fw.now)
    with pytest.raises(RuntimeError):
        flow.submit("G1 X5", fw.now)


# ---------------------------------------------------------------------- several lines in flight


def windowed(window: int = 3, rx_buffer: int = 128) -> tuple[LineFlow, Firmware]:
    flow, fw = started(window=window, rx_buffer=rx_buffer)  # type: ignore[arg-type]
    return flow, fw


def test_lines_go_ahead_up_to_the_window_and_the_receive_buffer() -> None:
    flow, fw = windowed(window=3)
    assert flow.submit("G1 X4", fw.now) == Write(4, "G1 X4")
    assert flow.room("G1 X5") and flow.send_ahead("G1 X5") == Write(5, "G1 X5")
    assert flow.room("G1 X6") and flow.send_ahead("G1 X6") == Write(6, "G1 X6")
    assert not flow.room("G1 X7")  # three in flight: Marlin's BUFSIZE 4 minus one
    assert fw.says("ok") == [Acked(4)]
    assert flow.room("G1 X7")
    assert fw.says("ok", "ok") == [Acked(5), Done(6)]
    small, fw2 = windowed(window=8, rx_buffer=40)
    small.submit("G1 X10 Y10", fw2.now)  # "N4 G1 X10 Y10*NN\n": 18 bytes
    assert small.room("G1 X11 Y11") and small.send_ahead("G1 X11 Y11")
    assert not small.room("G1 X12 Y12")  # a third would not fit in 40 bytes: it waits
    assert not small.room("G28")  # and nothing goes ahead of or behind a long-running command


def test_a_resend_with_lines_in_flight_rewinds_and_ignores_what_was_behind_the_garbled_line() -> None:
    flow, fw = windowed()
    flow.submit("G1 X4", fw.now)
    flow.send_ahead("G1 X5")
    flow.send_ahead("G1 X6")
    # line 4 was taken (its ok comes later), 5 was garbled, 6 arrived behind it and is refused too
    assert fw.says("Error:checksum mismatch, Last Line: 4", "Resend: 5", "ok") == []
    assert fw.says("Error:Line Number is not Last Line Number+1, Last Line: 4", "Resend: 5", "ok") == []
    assert fw.says("ok") == []  # line 4's own ok: not the acknowledgement of the line resent
    # the resend goes once the answers to the lines behind the garbled one are in: no flush loses it
    assert fw.later(0.2) == [Write(5, "G1 X5", again=True)]
    assert fw.says("ok") == [Write(6, "G1 X6", again=True)]  # line 5 is through: then 6, from the history
    assert fw.says("ok") == [Done(6)]
    assert flow.resends == 2
    assert flow.submit("G1 X7", fw.now) == Write(7, "G1 X7")  # and the stream goes on normally
    assert flow.room("G1 X8")


def test_a_line_lost_with_others_in_flight_is_asked_for_by_the_firmware() -> None:
    flow, fw = windowed()
    flow.submit("G1 X4", fw.now)
    flow.send_ahead("G1 X5")
    flow.send_ahead("G1 X6")
    assert fw.says("ok") == [Acked(4)]  # 5 vanished on the wire: 6 arrives with the wrong number
    assert fw.says("Error:Line Number is not Last Line Number+1, Last Line: 4", "Resend: 5", "ok") == []
    assert fw.later(0.2) == [Write(5, "G1 X5", again=True)]
    assert fw.says("ok") == [Write(6, "G1 X6", again=True)]
    assert fw.says("ok") == [Done(6)]


def test_a_line_goes_out_as_the_bytes_its_checksum_covers() -> None:
    """A character outside ASCII is checksummed as `?`: it goes out as `?` too, or the firmware
    would refuse the line again and again."""
    data = encode(7, "M117 Café")
    assert data.startswith(b"N7 M117 Caf?*") and data.endswith(b"\n")
    parsed = parse_numbered(data.decode("ascii").strip())
    assert parsed is not None and parsed[2]  # the checksum matches the bytes sent
