"""cffi (API mode) build of the libpri 1.6 binding, compiled at install time.

``setup.py`` names ``ffibuilder`` in ``cffi_modules`` so ``pip install -e .``
compiles ``appliance.signalling.pri._libpri``; run this file directly to build
it in place during development.

libpri hands back one reused ``pri_event`` buffer per controller: the next
call into libpri overwrites it. :c:func:`app_copy_event` therefore copies
every field the signalling layer uses into a caller-owned ``struct
app_event`` immediately, in C, before Python does anything else.

D-channel I/O goes through ``pri_new_cb`` callbacks (``extern "Python"``) so
frames pass through the span driver (and its spy/fault layers) rather than
libpri reading the file descriptor itself. libpri reads and writes two extra
bytes of FCS (the HDLC controller computes it); the callbacks add/strip them.
"""

from __future__ import annotations

from cffi import FFI

CDEF = r"""
#define PRI_NETWORK ...
#define PRI_CPE ...

#define PRI_SWITCH_UNKNOWN ...
#define PRI_SWITCH_NI2 ...
#define PRI_SWITCH_DMS100 ...
#define PRI_SWITCH_LUCENT5E ...
#define PRI_SWITCH_ATT4ESS ...
#define PRI_SWITCH_EUROISDN_E1 ...
#define PRI_SWITCH_EUROISDN_T1 ...
#define PRI_SWITCH_NI1 ...
#define PRI_SWITCH_QSIG ...

#define PRI_EVENT_DCHAN_UP ...
#define PRI_EVENT_DCHAN_DOWN ...
#define PRI_EVENT_RESTART ...
#define PRI_EVENT_CONFIG_ERR ...
#define PRI_EVENT_RING ...
#define PRI_EVENT_HANGUP ...
#define PRI_EVENT_RINGING ...
#define PRI_EVENT_ANSWER ...
#define PRI_EVENT_HANGUP_ACK ...
#define PRI_EVENT_RESTART_ACK ...
#define PRI_EVENT_FACILITY ...
#define PRI_EVENT_INFO_RECEIVED ...
#define PRI_EVENT_PROCEEDING ...
#define PRI_EVENT_SETUP_ACK ...
#define PRI_EVENT_HANGUP_REQ ...
#define PRI_EVENT_NOTIFY ...
#define PRI_EVENT_PROGRESS ...
#define PRI_EVENT_KEYPAD_DIGIT ...
#define PRI_EVENT_SERVICE ...
#define PRI_EVENT_SERVICE_ACK ...
#define PRI_EVENT_CONNECT_ACK ...

#define PRI_TRANS_CAP_SPEECH ...
#define PRI_LAYER_1_ALAW ...
#define PRI_LAYER_1_ULAW ...
#define PRI_UNKNOWN ...
#define PRI_NATIONAL_ISDN ...
#define PRI_PROG_INBAND_AVAILABLE ...

#define PRES_ALLOWED_USER_NUMBER_NOT_SCREENED ...
#define PRES_PROHIB_USER_NUMBER_NOT_SCREENED ...
#define PRI_PRES_RESTRICTION ...
#define PRI_PRES_ALLOWED ...
#define PRI_PRES_RESTRICTED ...
#define PRI_PRES_UNAVAILABLE ...

struct pri;
typedef struct q931_call q931_call;
typedef ... pri_event;
struct pri_sr;
typedef int (*pri_io_cb)(struct pri *pri, void *buf, int buflen);

struct timeval { long tv_sec; long tv_usec; ...; };

struct app_event {
    int e;
    int channel;
    int cause;
    int cref;
    int callingpres;
    int callingplan;
    int calledplan;
    int complete;
    int flexible;
    int changestatus;
    int progressmask;
    q931_call *call;
    char callingnum[256];
    char callingname[256];
    char callednum[256];
    char digits[64];
    char err[256];
};

int app_copy_event(pri_event *ev, struct app_event *out);

struct pri *pri_new_cb(int fd, int nodetype, int switchtype, pri_io_cb io_read,
                       pri_io_cb io_write, void *userdata);
void *pri_get_userdata(struct pri *pri);
void pri_set_debug(struct pri *pri, int debug);
pri_event *pri_check_event(struct pri *pri);
struct timeval *pri_schedule_next(struct pri *pri);
pri_event *pri_schedule_run(struct pri *pri);
char *pri_event2str(int id);
char *pri_cause2str(int cause);
char *pri_switch2str(int id);
int pri_acknowledge(struct pri *pri, q931_call *call, int channel, int info);
int pri_need_more_info(struct pri *pri, q931_call *call, int channel, int nonisdn);
int pri_proceeding(struct pri *pri, q931_call *c, int channel, int info);
int pri_answer(struct pri *pri, q931_call *call, int channel, int nonisdn);
int pri_hangup(struct pri *pri, q931_call *call, int cause);
void pri_destroycall(struct pri *pri, q931_call *call);
int pri_restart(struct pri *pri);
int pri_reset(struct pri *pri, int channel);
int pri_information(struct pri *pri, q931_call *call, char digit);
q931_call *pri_new_call(struct pri *pri);
struct pri_sr *pri_sr_new(void);
void pri_sr_free(struct pri_sr *sr);
int pri_sr_set_channel(struct pri_sr *sr, int channel, int exclusive, int nonisdn);
int pri_sr_set_bearer(struct pri_sr *sr, int transmode, int userl1);
int pri_sr_set_called(struct pri_sr *sr, char *called, int calledplan, int complete);
int pri_sr_set_caller(struct pri_sr *sr, char *caller, char *callername, int callerplan,
                      int callerpres);
int pri_setup(struct pri *pri, q931_call *call, struct pri_sr *req);
int pri_set_service_message_support(struct pri *pri, int supportflag);
int pri_maintenance_service(struct pri *pri, int span, int channel, int changestatus);
void pri_set_overlapdial(struct pri *pri, int state);
void pri_hangup_fix_enable(struct pri *ctrl, int enable);
int pri_set_timer(struct pri *pri, int timer, int value);
int pri_get_timer(struct pri *pri, int timer);
int pri_timer2idx(const char *timer_name);
const char *pri_get_version(void);
void pri_set_error(void (*__pri_error)(struct pri *pri, char *));
void pri_set_message(void (*__pri_error)(struct pri *pri, char *));

extern "Python" int _app_io_read(struct pri *, void *, int);
extern "Python" int _app_io_write(struct pri *, void *, int);
extern "Python" void _app_pri_error(struct pri *, char *);
extern "Python" void _app_pri_message(struct pri *, char *);
"""

SOURCE = r"""
#include <string.h>
#include <sys/time.h>
#include <libpri.h>

struct app_event {
    int e;
    int channel;
    int cause;
    int cref;
    int callingpres;
    int callingplan;
    int calledplan;
    int complete;
    int flexible;
    int changestatus;
    int progressmask;
    q931_call *call;
    char callingnum[256];
    char callingname[256];
    char callednum[256];
    char digits[64];
    char err[256];
};

#define COPYSTR(dst, src) do { strncpy((dst), (src), sizeof(dst) - 1); \
    (dst)[sizeof(dst) - 1] = 0; } while (0)

int app_copy_event(pri_event *ev, struct app_event *out)
{
    memset(out, 0, sizeof(*out));
    if (!ev)
        return 0;
    out->e = ev->e;
    out->channel = -1;
    switch (ev->e) {
    case PRI_EVENT_RING:
        out->channel = ev->ring.channel;
        out->cref = ev->ring.cref;
        out->callingpres = ev->ring.callingpres;
        out->callingplan = ev->ring.callingplan;
        out->calledplan = ev->ring.calledplan;
        out->complete = ev->ring.complete;
        out->flexible = ev->ring.flexible;
        out->call = ev->ring.call;
        COPYSTR(out->callingnum, ev->ring.callingnum);
        COPYSTR(out->callingname, ev->ring.callingname);
        COPYSTR(out->callednum, ev->ring.callednum);
        break;
    case PRI_EVENT_INFO_RECEIVED:
        out->channel = ev->ring.channel;
        out->call = ev->ring.call;
        out->complete = ev->ring.complete;
        COPYSTR(out->callednum, ev->ring.callednum);
        break;
    case PRI_EVENT_HANGUP:
    case PRI_EVENT_HANGUP_REQ:
    case PRI_EVENT_HANGUP_ACK:
        out->channel = ev->hangup.channel;
        out->cause = ev->hangup.cause;
        out->cref = ev->hangup.cref;
        out->call = ev->hangup.call;
        break;
    case PRI_EVENT_RINGING:
        out->channel = ev->ringing.channel;
        out->cref = ev->ringing.cref;
        out->progressmask = ev->ringing.progressmask;
        out->call = ev->ringing.call;
        break;
    case PRI_EVENT_ANSWER:
        out->channel = ev->answer.channel;
        out->cref = ev->answer.cref;
        out->progressmask = ev->answer.progressmask;
        out->call = ev->answer.call;
        break;
    case PRI_EVENT_PROCEEDING:
    case PRI_EVENT_PROGRESS:
        out->channel = ev->proceeding.channel;
        out->cref = ev->proceeding.cref;
        out->cause = ev->proceeding.cause;
        out->progressmask = ev->proceeding.progressmask;
        out->call = ev->proceeding.call;
        break;
    case PRI_EVENT_SETUP_ACK:
        out->channel = ev->setup_ack.channel;
        out->call = ev->setup_ack.call;
        break;
    case PRI_EVENT_CONNECT_ACK:
        out->channel = ev->connect_ack.channel;
        out->call = ev->connect_ack.call;
        break;
    case PRI_EVENT_KEYPAD_DIGIT:
        out->channel = ev->digit.channel;
        out->call = ev->digit.call;
        COPYSTR(out->digits, ev->digit.digits);
        break;
    case PRI_EVENT_RESTART:
        out->channel = ev->restart.channel;
        break;
    case PRI_EVENT_RESTART_ACK:
        out->channel = ev->restartack.channel;
        break;
    case PRI_EVENT_SERVICE:
        out->channel = ev->service.channel;
        out->changestatus = ev->service.changestatus;
        break;
    case PRI_EVENT_SERVICE_ACK:
        out->channel = ev->service_ack.channel;
        out->changestatus = ev->service_ack.changestatus;
        break;
    case PRI_EVENT_CONFIG_ERR:
        COPYSTR(out->err, ev->err.err);
        break;
    default:
        break;
    }
    return out->e;
}
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "appliance.signalling.pri._libpri",
    SOURCE,
    libraries=["pri"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
