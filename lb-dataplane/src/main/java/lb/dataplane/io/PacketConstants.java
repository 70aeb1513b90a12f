package lb.dataplane.io;

/**
 * Linux constants and x86_64 struct offsets for AF_PACKET, from {@code linux/if_packet.h},
 * {@code linux/if.h}, {@code linux/sockios.h} and {@code poll.h}. Offsets were checked against the
 * kernel headers on the target machine (see the shared packet-io notes).
 */
public final class PacketConstants
{
    private PacketConstants()
    {
    }

    // Socket families, types and levels.
    public static final int AF_PACKET = 17;
    public static final int AF_INET = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_PACKET = 263;
    public static final int ETH_P_ALL = 0x0003;

    // errno values that get their own message.
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENETDOWN = 100;
    public static final int ENXIO = 6;

    // SOL_PACKET options.
    public static final int PACKET_RX_RING = 5;
    public static final int PACKET_STATISTICS = 6;
    public static final int PACKET_VERSION = 10;
    public static final int PACKET_RESERVE = 12;
    public static final int PACKET_TX_RING = 13;
    public static final int PACKET_LOSS = 14;
    public static final int PACKET_VNET_HDR = 15;
    public static final int PACKET_FANOUT = 18;
    public static final int PACKET_QDISC_BYPASS = 20;
    /** Attaches the steering program of a PACKET_FANOUT_CBPF/EBPF group (Linux 4.3+); needs the join first. */
    public static final int PACKET_FANOUT_DATA = 22;
    public static final int PACKET_IGNORE_OUTGOING = 23;

    // TPACKET versions (values of PACKET_VERSION).
    public static final int TPACKET_V2 = 1;
    public static final int TPACKET_V3 = 2;

    // RX status bits (tp_status / block_status).
    public static final int TP_STATUS_KERNEL = 0;
    public static final int TP_STATUS_USER = 1;
    public static final int TP_STATUS_LOSING = 1 << 2;
    public static final int TP_STATUS_CSUMNOTREADY = 1 << 3;
    public static final int TP_STATUS_VLAN_VALID = 1 << 4;
    public static final int TP_STATUS_BLK_TMO = 1 << 5;
    public static final int TP_STATUS_CSUM_VALID = 1 << 7;
    public static final int TP_STATUS_GSO_TCP = 1 << 8;

    // TX status values.
    public static final int TP_STATUS_AVAILABLE = 0;
    public static final int TP_STATUS_SEND_REQUEST = 1;
    public static final int TP_STATUS_SENDING = 1 << 1;
    public static final int TP_STATUS_WRONG_FORMAT = 1 << 2;

    // Fanout: PACKET_FANOUT takes group id | (mode | flags) << 16.
    public static final int PACKET_FANOUT_HASH = 0;
    public static final int PACKET_FANOUT_LB = 1;
    public static final int PACKET_FANOUT_CPU = 2;
    public static final int PACKET_FANOUT_ROLLOVER = 3;
    public static final int PACKET_FANOUT_RND = 4;
    public static final int PACKET_FANOUT_QM = 5;
    /** A classic-BPF program, set with PACKET_FANOUT_DATA, returns the socket's index in the group. */
    public static final int PACKET_FANOUT_CBPF = 6;
    public static final int PACKET_FANOUT_EBPF = 7;
    public static final int PACKET_FANOUT_FLAG_ROLLOVER = 0x1000;
    public static final int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    /** Linux 6.2+: a fanout member does not see its own transmissions (missing from older headers). */
    public static final int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
    public static final int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    // struct sock_fprog (16 bytes): u16 len, then the struct sock_filter pointer at 8.
    public static final int SOCK_FPROG_LENGTH = 16;
    public static final int SOCK_FPROG_LEN_OFFSET = 0;
    public static final int SOCK_FPROG_FILTER_OFFSET = 8;

    // mmap and send flags.
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int O_RDONLY = 0;
    public static final int O_CLOEXEC = 0x80000;
    public static final int CLONE_NEWNET = 0x40000000;

    // poll.
    public static final short POLLIN = 0x1;
    public static final short POLLERR = 0x8;
    public static final int POLLFD_LENGTH = 8;
    public static final int POLLFD_FD_OFFSET = 0;
    public static final int POLLFD_EVENTS_OFFSET = 4;
    public static final int POLLFD_REVENTS_OFFSET = 6;

    // Interface ioctls and struct ifreq (40 bytes).
    public static final long SIOCGIFFLAGS = 0x8913;
    public static final long SIOCGIFMTU = 0x8921;
    public static final long SIOCGIFHWADDR = 0x8927;
    public static final long SIOCGIFINDEX = 0x8933;
    public static final int IFNAMSIZ = 16;
    public static final int IFREQ_LENGTH = 40;
    public static final int IFREQ_NAME_OFFSET = 0;
    public static final int IFREQ_IFINDEX_OFFSET = 16;
    public static final int IFREQ_MTU_OFFSET = 16;
    public static final int IFREQ_FLAGS_OFFSET = 16;
    public static final int IFREQ_HWADDR_FAMILY_OFFSET = 16;
    public static final int IFREQ_HWADDR_DATA_OFFSET = 18;
    public static final int IFF_UP = 0x1;
    public static final int IFF_RUNNING = 0x40;
    public static final int IFF_PROMISC = 0x100;
    public static final int ARPHRD_ETHER = 1;

    // struct sockaddr_ll (20 bytes).
    public static final int SOCKADDR_LL_LENGTH = 20;
    public static final int SLL_FAMILY_OFFSET = 0;
    public static final int SLL_PROTOCOL_OFFSET = 2;
    public static final int SLL_IFINDEX_OFFSET = 4;
    public static final int SLL_HATYPE_OFFSET = 8;
    public static final int SLL_PKTTYPE_OFFSET = 10;
    public static final int SLL_HALEN_OFFSET = 11;
    public static final int SLL_ADDR_OFFSET = 12;

    // struct tpacket_req3 (28 bytes); struct tpacket_req is its first 16 bytes.
    public static final int TPACKET_REQ_LENGTH = 16;
    public static final int TPACKET_REQ3_LENGTH = 28;
    public static final int REQ_BLOCK_SIZE_OFFSET = 0;
    public static final int REQ_BLOCK_NR_OFFSET = 4;
    public static final int REQ_FRAME_SIZE_OFFSET = 8;
    public static final int REQ_FRAME_NR_OFFSET = 12;
    public static final int REQ3_RETIRE_BLK_TOV_OFFSET = 16;
    public static final int REQ3_SIZEOF_PRIV_OFFSET = 20;
    public static final int REQ3_FEATURE_REQ_WORD_OFFSET = 24;

    // struct tpacket2_hdr (32 bytes); TX data starts at TPACKET2_HDRLEN - sizeof(sockaddr_ll) = 32.
    public static final int TPACKET2_HDR_LENGTH = 32;
    public static final int TP2_STATUS_OFFSET = 0;
    public static final int TP2_LEN_OFFSET = 4;
    public static final int TP2_SNAPLEN_OFFSET = 8;
    public static final int TP2_MAC_OFFSET = 12;
    public static final int TP2_NET_OFFSET = 14;
    public static final int TP2_SEC_OFFSET = 16;
    public static final int TP2_NSEC_OFFSET = 20;
    public static final int TP2_VLAN_TCI_OFFSET = 24;
    public static final int TP2_VLAN_TPID_OFFSET = 26;
    public static final int TP2_TX_DATA_OFFSET = 32;

    // struct tpacket3_hdr (48 bytes); TX data starts at TPACKET3_HDRLEN - sizeof(sockaddr_ll) = 48.
    public static final int TPACKET3_HDR_LENGTH = 48;
    public static final int TP3_NEXT_OFFSET_OFFSET = 0;
    public static final int TP3_SEC_OFFSET = 4;
    public static final int TP3_NSEC_OFFSET = 8;
    public static final int TP3_SNAPLEN_OFFSET = 12;
    public static final int TP3_LEN_OFFSET = 16;
    public static final int TP3_STATUS_OFFSET = 20;
    public static final int TP3_MAC_OFFSET = 24;
    public static final int TP3_NET_OFFSET = 26;
    public static final int TP3_RXHASH_OFFSET = 28;
    public static final int TP3_VLAN_TCI_OFFSET = 32;
    public static final int TP3_VLAN_TPID_OFFSET = 36;
    public static final int TP3_TX_DATA_OFFSET = 48;

    // struct tpacket_block_desc (48 bytes) at the start of every V3 block.
    public static final int BLOCK_DESC_LENGTH = 48;
    public static final int BD_VERSION_OFFSET = 0;
    public static final int BD_OFFSET_TO_PRIV_OFFSET = 4;
    public static final int BD_BLOCK_STATUS_OFFSET = 8;
    public static final int BD_NUM_PKTS_OFFSET = 12;
    public static final int BD_OFFSET_TO_FIRST_PKT_OFFSET = 16;
    public static final int BD_BLK_LEN_OFFSET = 20;
    public static final int BD_SEQ_NUM_OFFSET = 24;

    // struct tpacket_stats (V2, 8 bytes) and tpacket_stats_v3 (12 bytes).
    public static final int TPACKET_STATS_PACKETS_OFFSET = 0;
    public static final int TPACKET_STATS_DROPS_OFFSET = 4;
    public static final int TPACKET_STATS_V3_LENGTH = 12;

    /**
     * Ring frame header room the kernel needs before the MAC header, per version:
     * {@code TPACKET_ALIGN(tp_hdrlen + 16)} where {@code tp_hdrlen} includes the trailing sockaddr_ll.
     * A frame of size S carries at most {@code S - macOffset} bytes of a 14-byte-header frame.
     */
    public static final int TPACKET2_HDRLEN = 52;
    public static final int TPACKET3_HDRLEN = 68;
    public static final int TPACKET_ALIGNMENT = 16;

    /** Round up to {@link #TPACKET_ALIGNMENT}. */
    static int tpacketAlign(final int value)
    {
        return (value + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
    }
}
