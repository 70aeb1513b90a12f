package lb.control.config;

/**
 * The default of every optional setting, as the text a user would write. The builder parses these
 * same strings, so the defaults that {@code lb --help} shows are the defaults lb uses.
 */
public final class ConfigDefaults
{
    /** One ARP probe cycle across all backends. */
    public static final String PROBE_INTERVAL = "5s";
    /** How long a probe waits for its reply. */
    public static final String PROBE_TIMEOUT = "3s";
    /** Probes sent again at once when one goes unanswered, before a backend counts as down. */
    public static final String PROBE_RETRIES = "1";
    /** Idle timeout of a TCP flow that has seen only a SYN. */
    public static final String TIMEOUT_TCP_SYN = "30s";
    /** Idle timeout of an established TCP flow. */
    public static final String TIMEOUT_TCP_ESTABLISHED = "300s";
    /** Idle timeout of a TCP flow after FIN or RST. */
    public static final String TIMEOUT_TCP_CLOSING = "10s";
    /** Idle timeout of a UDP flow. */
    public static final String TIMEOUT_UDP = "60s";
    /** Flow table capacity (2^20 flows). */
    public static final String FLOW_CAPACITY = "1048576";
    /**
     * IPv6 flow table entries (2^18): 128-byte slots at a load of at most 3/4, so about 170.7 bytes
     * per entry, 42.7 MiB; a NAT flow takes two entries, so this holds 131,072 NAT flows.
     */
    public static final String FLOW_TABLE_SIZE6 = "262144";
    /** Worker idle strategy. */
    public static final String IDLE_STRATEGY = "backoff";
    /**
     * How long a backoff worker spins on empty rings before it sleeps in poll(): not at all. On
     * the testbed a 20 us spin cost 27 to 42% more CPU per packet and request for 30 us lower
     * median RTT and no better p99 (benchmarks/RESULTS.md, "Idle spin"); spin is the strategy
     * for lowest latency.
     */
    public static final String IDLE_SPIN = "0";
    /** Workers are not pinned unless asked: the scheduler places them. */
    public static final String WORKER_CPUS = "none";
    /** Receive ring layout: V2 for its lower latency at low load. */
    public static final String RX_RING_VERSION = "v2";
    /** Receive ring frame slot: a 1514-byte Ethernet frame plus the kernel's frame header. */
    public static final String RX_FRAME_SIZE = "2048";
    /** Receive ring frame slots: 4096 x 2048 bytes = 8 MiB per ring. */
    public static final String RX_FRAME_COUNT = "4096";
    /** Dataplane worker threads. */
    public static final String WORKERS = "1";
    /** The control interface's unix socket. */
    public static final String CONTROL_SOCKET = "/run/lb/lb.sock";
    /** BGP hold time when BFD is off or the whole machine freezes (keepalive is a third): a dead instance's routes go within it. */
    public static final String BGP_HOLD_TIME = "3s";
    /** Debian's bird2. */
    public static final String BIRD = "/usr/sbin/bird";
    /** Forwarding mode of a service. */
    public static final String MODE = "nat";
    /** Scheduler of a service: weighted least connections, ipvsadm's default. */
    public static final String SCHEDULER = "wlc";
    /** Maglev lookup table size: the prime the Maglev paper uses. */
    public static final String MAGLEV_TABLE_SIZE = "65537";
    /** Backend weight. */
    public static final String WEIGHT = "1";

    private ConfigDefaults()
    {
    }

    /** A route's spread policy: what Linux ECMP does, resilient. */
    public static final String ROUTE_POLICY = "flow-hash";
    /**
     * A flowlet's idle gap: longer than the paths' delay difference (a few ms on the testbed's
     * skewed paths), so a flowlet that moves never overtakes its own earlier packets.
     */
    public static final String FLOWLET_GAP = "10ms";
}
