package lb.dataplane.io;

import java.nio.ByteOrder;
import java.util.Arrays;
import org.agrona.MutableDirectBuffer;

/**
 * The classic-BPF program that steers frames among the sockets of a PACKET_FANOUT_CBPF group: it
 * returns the index of the socket (the worker) that gets the frame.
 *
 * <p>Both directions of a NAT flow must meet in one worker, whose flow table holds both of the
 * flow's entries. The one endpoint the two directions share is the client's: it is the source of
 * the forward frames (client to VIP, on the client side) and the destination of the return frames
 * (backend to client, on the server side). So {@link Side#CLIENT} hashes (source IP, source port)
 * and {@link Side#SERVER} hashes (destination IP, destination port), with the same function
 * {@link #workerOf(int, int, int)}. An ICMP error (destination unreachable, time exceeded, parameter
 * problem) about a flow's packet must reach the flow's worker too: it quotes a packet that went the
 * other way, so the program hashes the quote's client endpoint, its destination on the client side
 * and its source on the server side. Everything else (ARP, other ICMP, fragments, other protocols
 * and anything too short to read) goes to worker 0, which answers ARP and ping and passes ARP to
 * the control thread.
 *
 * <p>IPv6 is steered the same way. TCP and UDP are hashed by the client's 128-bit address, folded
 * to 32 bits by {@link #addressFold(long, long)}, and port, after up to
 * {@link #MAX_EXTENSION_HEADERS} hop-by-hop, routing and destination-options headers (the ones the
 * classifier passes over), so a flow whose client sends such headers still meets its return
 * frames. An ICMPv6 error (types 1 to 4) is hashed by the client endpoint of the TCP or UDP packet
 * it quotes, as for IPv4, when neither the error nor its quote has extension headers (routers send
 * them without; an error with them goes to worker 0). Everything else, NDP and echo among it, goes
 * to worker 0, which answers neighbour solicitations and echo requests and hands the backends'
 * neighbour advertisements to the control thread; so do fragments, as for IPv4.
 *
 * <p>What the program sees: the kernel runs it in {@code packet_rcv_fanout} on the skb as it
 * arrives, where on receive the link-layer header is already pulled ({@code skb->data} is the IP
 * header) but on transmit it is not. The program therefore never uses plain offsets: it reads the
 * EtherType through the {@code skb->protocol} ancillary load (which also sees through a VLAN tag
 * the kernel took out of the frame) and IP and L4 fields relative to the network header
 * ({@link #SKF_NET_OFF}). A load outside the packet ends the program with 0: worker 0.
 *
 * <p>The hash: {@code h = ip * 0x9E3779B1 + port} (for IPv6 {@code ip} is the address's fold), then
 * the murmur3 finaliser (xor-shift 16,
 * multiply, xor-shift 13, multiply, xor-shift 16), then {@code h mod workers} unsigned, all in
 * 32 bits like classic BPF's ALU. The kernel takes the result modulo the group's size again,
 * which changes nothing once all {@code workers} sockets have joined.
 *
 * <p>Immutable. Instructions are {@code struct sock_filter}: {@code u16 code, u8 jt, u8 jf, u32 k};
 * a jump's {@code jt}/{@code jf} count the instructions skipped after it.
 */
public final class FanoutProgram
{
    /** Which endpoint of the frame the program hashes. */
    public enum Side
    {
        /** Frames from clients: hash the source; an ICMP error's quote (lb's packet to the client): its destination. */
        CLIENT(true),
        /** Frames from backends to clients: hash the destination; an ICMP error's quote (lb's packet from the client): its source. */
        SERVER(false);

        final int ipOffset;
        final int ip6Offset;
        final int portOffset;
        /** Where the client's endpoint is in the packet an ICMP error quotes: it went the other way. */
        final int quotedIpOffset;
        final int quotedIp6Offset;
        final int quotedPortOffset;

        Side(final boolean clientIsSource)
        {
            this.ipOffset = clientIsSource ? IPV4_SRC_OFFSET : IPV4_DST_OFFSET;
            this.ip6Offset = clientIsSource ? IPV6_SRC_OFFSET : IPV6_DST_OFFSET;
            this.portOffset = clientIsSource ? L4_SRC_PORT_OFFSET : L4_DST_PORT_OFFSET;
            this.quotedIpOffset = clientIsSource ? IPV4_DST_OFFSET : IPV4_SRC_OFFSET;
            this.quotedIp6Offset = clientIsSource ? IPV6_DST_OFFSET : IPV6_SRC_OFFSET;
            this.quotedPortOffset = clientIsSource ? L4_DST_PORT_OFFSET : L4_SRC_PORT_OFFSET;
        }
    }

    // ---- classic BPF encoding (linux/bpf_common.h, linux/filter.h) ----------------------------

    /** Instruction classes. */
    public static final int BPF_LD = 0x00;
    public static final int BPF_LDX = 0x01;
    public static final int BPF_ST = 0x02;
    public static final int BPF_STX = 0x03;
    public static final int BPF_ALU = 0x04;
    public static final int BPF_JMP = 0x05;
    public static final int BPF_RET = 0x06;
    public static final int BPF_MISC = 0x07;
    /** Load sizes. */
    public static final int BPF_W = 0x00;
    public static final int BPF_H = 0x08;
    public static final int BPF_B = 0x10;
    /** Load modes. */
    public static final int BPF_IMM = 0x00;
    public static final int BPF_ABS = 0x20;
    public static final int BPF_IND = 0x40;
    public static final int BPF_MEM = 0x60;
    public static final int BPF_LEN = 0x80;
    /** {@code ldxb 4*([k]&0xf)}: X = the IPv4 header length read from its first byte. */
    public static final int BPF_MSH = 0xa0;
    /** ALU operations. */
    public static final int BPF_ADD = 0x00;
    public static final int BPF_SUB = 0x10;
    public static final int BPF_MUL = 0x20;
    public static final int BPF_DIV = 0x30;
    public static final int BPF_OR = 0x40;
    public static final int BPF_AND = 0x50;
    public static final int BPF_LSH = 0x60;
    public static final int BPF_RSH = 0x70;
    public static final int BPF_NEG = 0x80;
    public static final int BPF_MOD = 0x90;
    public static final int BPF_XOR = 0xa0;
    /** Jump operations. */
    public static final int BPF_JA = 0x00;
    public static final int BPF_JEQ = 0x10;
    public static final int BPF_JGT = 0x20;
    public static final int BPF_JGE = 0x30;
    public static final int BPF_JSET = 0x40;
    /** Operand sources: the constant k, or the X register (for RET: A). */
    public static final int BPF_K = 0x00;
    public static final int BPF_X = 0x08;
    public static final int BPF_A = 0x10;
    /** MISC operations: X = A, A = X. */
    public static final int BPF_TAX = 0x00;
    public static final int BPF_TXA = 0x80;

    /** Ancillary loads start here; {@code SKF_AD_OFF + SKF_AD_PROTOCOL} is {@code ntohs(skb->protocol)}. */
    public static final int SKF_AD_OFF = -0x1000;
    public static final int SKF_AD_PROTOCOL = 0;
    /** Loads at {@code SKF_NET_OFF + n} read byte n of the network header, wherever skb->data is. */
    public static final int SKF_NET_OFF = -0x100000;
    /** Loads at {@code SKF_LL_OFF + n} read byte n of the link-layer header. */
    public static final int SKF_LL_OFF = -0x200000;

    /** {@code struct sock_filter} is 8 bytes: code at 0, jt at 2, jf at 3, k at 4 (host order). */
    public static final int SOCK_FILTER_LENGTH = 8;
    public static final int CODE_OFFSET = 0;
    public static final int JT_OFFSET = 2;
    public static final int JF_OFFSET = 3;
    public static final int K_OFFSET = 4;

    // ---- what the program reads and the hash's constants -----------------------------------------

    static final int ETHER_TYPE_IPV4 = 0x0800;
    static final int IPV4_FLAGS_FRAGMENT_OFFSET = 6;
    /** More-fragments flag and fragment offset: any bit set means a fragment. */
    static final int IPV4_FRAGMENT_MASK = 0x3FFF;
    static final int IPV4_PROTOCOL_OFFSET = 9;
    static final int IPV4_SRC_OFFSET = 12;
    static final int IPV4_DST_OFFSET = 16;
    static final int L4_SRC_PORT_OFFSET = 0;
    static final int L4_DST_PORT_OFFSET = 2;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    /** The ICMP errors lb relays (see IcmpQuote): their quote follows the 8-byte ICMP header. */
    static final int ICMP_DESTINATION_UNREACHABLE = 3;
    static final int ICMP_TIME_EXCEEDED = 11;
    static final int ICMP_PARAMETER_PROBLEM = 12;
    static final int ICMP_QUOTE_OFFSET = 8;

    static final int ETHER_TYPE_IPV6 = 0x86DD;
    static final int IPV6_VERSION_OFFSET = 0;
    static final int IPV6_VERSION = 6;
    static final int IPV6_NEXT_HEADER_OFFSET = 6;
    static final int IPV6_SRC_OFFSET = 8;
    static final int IPV6_DST_OFFSET = 24;
    static final int IPV6_HEADER_LENGTH = 40;
    /** The extension headers the program passes over, as the classifier does (Ipv6ExtensionWalk). */
    static final int IPV6_HOP_BY_HOP = 0;
    static final int IPV6_ROUTING = 43;
    static final int IPV6_DESTINATION_OPTIONS = 60;
    /** An extension header's next header and its length in 8-byte units, not counting the first 8. */
    static final int EXTENSION_NEXT_HEADER_OFFSET = 0;
    static final int EXTENSION_LENGTH_OFFSET = 1;
    static final int EXTENSION_UNIT_SHIFT = 3;
    static final int EXTENSION_UNIT = 8;
    /** The classifier's limit too: a frame with more is dropped wherever it lands. */
    public static final int MAX_EXTENSION_HEADERS = 8;
    static final int PROTO_ICMPV6 = 58;
    /** ICMPv6 errors are types 1..4 (unreachable, packet too big, time exceeded, parameter problem); 0 is unassigned. */
    static final int ICMPV6_LAST_ERROR = 4;
    static final int ICMPV6_QUOTE_OFFSET = 8;

    /** Scratch memory words: the address part of the hash, the port, an extension's next header. */
    private static final int M_HASHED_IP = 0;
    private static final int M_PORT = 1;
    private static final int M_NEXT_HEADER = 2;

    static final int GOLDEN = 0x9E3779B1;
    static final int MIX_1 = 0x85EBCA6B;
    static final int MIX_2 = 0xC2B2AE35;

    /** The most sockets a fanout group takes without an explicit maximum (PACKET_FANOUT_MAX). */
    public static final int MAX_WORKERS = 256;

    private final Side side;
    private final int workers;
    private final short[] code;
    private final byte[] jt;
    private final byte[] jf;
    private final int[] k;

    private FanoutProgram(final Side side, final int workers, final Assembler a)
    {
        this.side = side;
        this.workers = workers;
        this.code = Arrays.copyOf(a.code, a.length);
        this.jt = Arrays.copyOf(a.jt, a.length);
        this.jf = Arrays.copyOf(a.jf, a.length);
        this.k = Arrays.copyOf(a.k, a.length);
    }

    /**
     * The program for one side's fanout group.
     *
     * @param side    which endpoint to hash.
     * @param workers sockets in the group, 1..{@link #MAX_WORKERS}.
     * @return the program.
     */
    public static FanoutProgram of(final Side side, final int workers)
    {
        if (workers < 1 || workers > MAX_WORKERS)
        {
            throw new IllegalArgumentException("fanout program for " + workers + " workers: must be 1.." + MAX_WORKERS);
        }
        final Assembler a = new Assembler();
        final int toWorkerZero = a.newLabel();
        final int l4 = a.newLabel();
        final int icmpError = a.newLabel();
        final int hash = a.newLabel();
        final int ipv6 = a.newLabel();

        a.stmt(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL);        // A = EtherType
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETHER_TYPE_IPV4, Assembler.NEXT, ipv6);
        // A fragment has no ports (or only the first has): worker 0, which counts the drop.
        a.stmt(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + IPV4_FLAGS_FRAGMENT_OFFSET);
        a.jump(BPF_JMP | BPF_JSET | BPF_K, IPV4_FRAGMENT_MASK, toWorkerZero, Assembler.NEXT);
        a.stmt(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + IPV4_PROTOCOL_OFFSET);  // A = IP protocol
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_TCP, l4, Assembler.NEXT);
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_UDP, l4, Assembler.NEXT);
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_ICMP, Assembler.NEXT, toWorkerZero);
        a.stmt(BPF_LDX | BPF_B | BPF_MSH, SKF_NET_OFF);                         // X = IHL * 4
        a.stmt(BPF_LD | BPF_B | BPF_IND, SKF_NET_OFF);                          // A = ICMP type
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, ICMP_DESTINATION_UNREACHABLE, icmpError, Assembler.NEXT);
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, ICMP_TIME_EXCEEDED, icmpError, Assembler.NEXT);
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, ICMP_PARAMETER_PROBLEM, Assembler.NEXT, toWorkerZero);
        a.label(icmpError);
        final int quote = SKF_NET_OFF + ICMP_QUOTE_OFFSET;
        a.stmt(BPF_LD | BPF_W | BPF_IND, quote + side.quotedIpOffset);         // A = quoted client IP
        a.stmt(BPF_ALU | BPF_MUL | BPF_K, GOLDEN);
        a.stmt(BPF_ST, M_HASHED_IP);                                            // M[0] = A
        a.stmt(BPF_LD | BPF_B | BPF_IND, quote);                                // the quote's IHL: X += IHL * 4
        a.stmt(BPF_ALU | BPF_AND | BPF_K, 0x0F);
        a.stmt(BPF_ALU | BPF_LSH | BPF_K, 2);
        a.stmt(BPF_ALU | BPF_ADD | BPF_X, 0);
        a.stmt(BPF_MISC | BPF_TAX, 0);
        a.stmt(BPF_LD | BPF_H | BPF_IND, quote + side.quotedPortOffset);       // A = quoted client port
        a.always(hash);
        a.label(l4);
        a.stmt(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + side.ipOffset);         // A = client IP
        a.stmt(BPF_ALU | BPF_MUL | BPF_K, GOLDEN);
        a.stmt(BPF_ST, M_HASHED_IP);                                            // M[0] = A
        a.stmt(BPF_LDX | BPF_B | BPF_MSH, SKF_NET_OFF);                         // X = IHL * 4
        a.stmt(BPF_LD | BPF_H | BPF_IND, SKF_NET_OFF + side.portOffset);       // A = client port
        a.label(hash);
        a.stmt(BPF_LDX | BPF_W | BPF_MEM, M_HASHED_IP);                         // X = M[0]
        a.stmt(BPF_ALU | BPF_ADD | BPF_X, 0);                                   // h = ip * GOLDEN + port
        mixAndReturn(a, workers);
        a.label(toWorkerZero);
        a.stmt(BPF_RET | BPF_K, 0);

        a.label(ipv6);
        ipv6(a, side, workers);
        return new FanoutProgram(side, workers, a.resolve());
    }

    /**
     * The IPv6 part, after the IPv4 program so that IPv4 frames run exactly the instructions they ran
     * before IPv6 was steered; it ends in its own hash and return (classic BPF jumps only forward).
     * X holds where the next header starts while the program walks the extension headers.
     */
    private static void ipv6(final Assembler a, final Side side, final int workers)
    {
        final int toWorkerZero = a.newLabel();
        final int l4 = a.newLabel();
        final int icmpv6 = a.newLabel();
        final int quotedL4 = a.newLabel();
        final int hash = a.newLabel();

        a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETHER_TYPE_IPV6, Assembler.NEXT, toWorkerZero);
        a.stmt(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + IPV6_VERSION_OFFSET);
        a.stmt(BPF_ALU | BPF_RSH | BPF_K, 4);
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, IPV6_VERSION, Assembler.NEXT, toWorkerZero);
        a.stmt(BPF_LDX | BPF_W | BPF_IMM, IPV6_HEADER_LENGTH);                 // X = after the fixed header
        a.stmt(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + IPV6_NEXT_HEADER_OFFSET); // A = next header
        // Unrolled, one round per extension header passed over: classic BPF has no loops.
        for (int passed = 0; ; passed++)
        {
            a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_TCP, l4, Assembler.NEXT);
            if (passed == MAX_EXTENSION_HEADERS)
            {
                a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_UDP, l4, toWorkerZero);
                break;
            }
            a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_UDP, l4, Assembler.NEXT);
            if (0 == passed)
            {
                a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_ICMPV6, icmpv6, Assembler.NEXT);
            }
            final int extension = a.newLabel();
            a.jump(BPF_JMP | BPF_JEQ | BPF_K, IPV6_HOP_BY_HOP, extension, Assembler.NEXT);
            a.jump(BPF_JMP | BPF_JEQ | BPF_K, IPV6_ROUTING, extension, Assembler.NEXT);
            a.jump(BPF_JMP | BPF_JEQ | BPF_K, IPV6_DESTINATION_OPTIONS, Assembler.NEXT, toWorkerZero);
            a.label(extension);
            a.stmt(BPF_LD | BPF_B | BPF_IND, SKF_NET_OFF + EXTENSION_NEXT_HEADER_OFFSET);
            a.stmt(BPF_ST, M_NEXT_HEADER);
            a.stmt(BPF_LD | BPF_B | BPF_IND, SKF_NET_OFF + EXTENSION_LENGTH_OFFSET);
            a.stmt(BPF_ALU | BPF_LSH | BPF_K, EXTENSION_UNIT_SHIFT);
            a.stmt(BPF_ALU | BPF_ADD | BPF_K, EXTENSION_UNIT);
            a.stmt(BPF_ALU | BPF_ADD | BPF_X, 0);
            a.stmt(BPF_MISC | BPF_TAX, 0);                                      // X = after this extension
            a.stmt(BPF_LD | BPF_W | BPF_MEM, M_NEXT_HEADER);                    // A = its next header
        }

        // ICMPv6 right after the fixed header: an error quoting a TCP or UDP packet with no extension headers.
        a.label(icmpv6);
        a.stmt(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + IPV6_HEADER_LENGTH);    // A = ICMPv6 type
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, 0, toWorkerZero, Assembler.NEXT);
        a.jump(BPF_JMP | BPF_JGT | BPF_K, ICMPV6_LAST_ERROR, toWorkerZero, Assembler.NEXT);
        final int quote = SKF_NET_OFF + IPV6_HEADER_LENGTH + ICMPV6_QUOTE_OFFSET;
        a.stmt(BPF_LD | BPF_B | BPF_ABS, quote + IPV6_NEXT_HEADER_OFFSET);     // A = quoted next header
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_TCP, quotedL4, Assembler.NEXT);
        a.jump(BPF_JMP | BPF_JEQ | BPF_K, PROTO_UDP, Assembler.NEXT, toWorkerZero);
        a.label(quotedL4);
        a.stmt(BPF_LD | BPF_H | BPF_ABS, quote + IPV6_HEADER_LENGTH + side.quotedPortOffset);
        a.stmt(BPF_ST, M_PORT);                                                 // M[1] = quoted client port
        foldAddress(a, quote + side.quotedIp6Offset);                           // A = fold of the quoted client address
        a.always(hash);

        a.label(l4);
        a.stmt(BPF_LD | BPF_H | BPF_IND, SKF_NET_OFF + side.portOffset);
        a.stmt(BPF_ST, M_PORT);                                                 // M[1] = client port
        foldAddress(a, SKF_NET_OFF + side.ip6Offset);                           // A = fold of the client address
        a.label(hash);
        a.stmt(BPF_ALU | BPF_MUL | BPF_K, GOLDEN);
        a.stmt(BPF_MISC | BPF_TAX, 0);
        a.stmt(BPF_LD | BPF_W | BPF_MEM, M_PORT);
        a.stmt(BPF_ALU | BPF_ADD | BPF_X, 0);                                   // h = fold * GOLDEN + port
        mixAndReturn(a, workers);
        a.label(toWorkerZero);
        a.stmt(BPF_RET | BPF_K, 0);
    }

    /**
     * {@code A = addressFold} of the 16 bytes at {@code offset} (absolute loads): the Horner sum of
     * its four big-endian words, {@code ((w0 * G + w1) * G + w2) * G + w3}. Clobbers X.
     */
    private static void foldAddress(final Assembler a, final int offset)
    {
        a.stmt(BPF_LD | BPF_W | BPF_ABS, offset);
        for (int word = 1; word < 4; word++)
        {
            a.stmt(BPF_ALU | BPF_MUL | BPF_K, GOLDEN);
            a.stmt(BPF_MISC | BPF_TAX, 0);
            a.stmt(BPF_LD | BPF_W | BPF_ABS, offset + 4 * word);
            a.stmt(BPF_ALU | BPF_ADD | BPF_X, 0);
        }
    }

    /** The murmur3 finaliser of A, then {@code return A mod workers}. */
    private static void mixAndReturn(final Assembler a, final int workers)
    {
        xorShiftRight(a, 16);
        a.stmt(BPF_ALU | BPF_MUL | BPF_K, MIX_1);
        xorShiftRight(a, 13);
        a.stmt(BPF_ALU | BPF_MUL | BPF_K, MIX_2);
        xorShiftRight(a, 16);
        a.stmt(BPF_ALU | BPF_MOD | BPF_K, workers);
        a.stmt(BPF_RET | BPF_A, 0);
    }

    /** {@code A ^= A >>> shift}, through X. */
    private static void xorShiftRight(final Assembler a, final int shift)
    {
        a.stmt(BPF_MISC | BPF_TAX, 0);
        a.stmt(BPF_ALU | BPF_RSH | BPF_K, shift);
        a.stmt(BPF_ALU | BPF_XOR | BPF_X, 0);
    }

    /**
     * The Java model of the program's choice for an IPv4 TCP or UDP frame.
     *
     * @param ip      the client's address (big-endian number, as everywhere in lb).
     * @param port    the client's port.
     * @param workers the group's size.
     * @return the worker index, 0..workers-1.
     */
    public static int workerOf(final int ip, final int port, final int workers)
    {
        int h = ip * GOLDEN + port;
        h ^= h >>> 16;
        h *= MIX_1;
        h ^= h >>> 13;
        h *= MIX_2;
        h ^= h >>> 16;
        return Integer.remainderUnsigned(h, workers);
    }

    /**
     * The Java model of the program's choice for an IPv6 TCP or UDP frame.
     *
     * @param high    the client's address, first 8 bytes as a big-endian long (as Ipv6Header reads it).
     * @param low     its last 8 bytes.
     * @param port    the client's port.
     * @param workers the group's size.
     * @return the worker index, 0..workers-1.
     */
    public static int workerOf6(final long high, final long low, final int port, final int workers)
    {
        return workerOf(addressFold(high, low), port, workers);
    }

    /**
     * The 32-bit fold of an IPv6 address the program hashes in place of an IPv4 address: the Horner
     * sum {@code ((w0 * G + w1) * G + w2) * G + w3} of its big-endian words, in 32-bit arithmetic.
     * Unlike a plain xor of the words it changes when two words swap.
     *
     * @param high the address's first 8 bytes as a big-endian long.
     * @param low  its last 8 bytes.
     * @return the fold.
     */
    public static int addressFold(final long high, final long low)
    {
        int fold = (int)(high >>> 32);
        fold = fold * GOLDEN + (int)high;
        fold = fold * GOLDEN + (int)(low >>> 32);
        return fold * GOLDEN + (int)low;
    }

    /** @return which endpoint the program hashes. */
    public Side side()
    {
        return side;
    }

    /** @return the number of workers it spreads over. */
    public int workers()
    {
        return workers;
    }

    /** @return number of instructions. */
    public int length()
    {
        return code.length;
    }

    /** @return the opcode of instruction {@code i}. */
    public int code(final int i)
    {
        return code[i] & 0xFFFF;
    }

    /** @return instructions skipped when instruction {@code i}'s jump condition holds. */
    public int jt(final int i)
    {
        return jt[i] & 0xFF;
    }

    /** @return instructions skipped when it does not. */
    public int jf(final int i)
    {
        return jf[i] & 0xFF;
    }

    /** @return the constant operand of instruction {@code i}. */
    public int k(final int i)
    {
        return k[i];
    }

    /**
     * Writes the program as an array of {@code struct sock_filter}, in host (little-endian) order.
     *
     * @return bytes written: {@code length() * SOCK_FILTER_LENGTH}.
     */
    public int writeTo(final MutableDirectBuffer buffer, final int offset)
    {
        for (int i = 0; i < code.length; i++)
        {
            final int at = offset + i * SOCK_FILTER_LENGTH;
            buffer.putShort(at + CODE_OFFSET, code[i], ByteOrder.LITTLE_ENDIAN);
            buffer.putByte(at + JT_OFFSET, jt[i]);
            buffer.putByte(at + JF_OFFSET, jf[i]);
            buffer.putInt(at + K_OFFSET, k[i], ByteOrder.LITTLE_ENDIAN);
        }
        return code.length * SOCK_FILTER_LENGTH;
    }

    @Override
    public String toString()
    {
        return "FanoutProgram{" + side + " " + workers + " workers, " + code.length + " instructions}";
    }

    /** Collects instructions and resolves forward jumps to labels. */
    private static final class Assembler
    {
        /** A jump target meaning "the next instruction" (skip 0). */
        static final int NEXT = -1;
        /** The kernel's own limit is BPF_MAXINSNS (4096); this program needs under 200. */
        private static final int MAX = 256;
        private static final int MAX_LABELS = 32;

        final short[] code = new short[MAX];
        final byte[] jt = new byte[MAX];
        final byte[] jf = new byte[MAX];
        final int[] k = new int[MAX];
        final int[] trueLabel = new int[MAX];
        final int[] falseLabel = new int[MAX];
        final int[] labelAt = new int[MAX_LABELS];
        int length;
        int labels;

        int newLabel()
        {
            labelAt[labels] = -1;
            return labels++;
        }

        void stmt(final int opcode, final int constant)
        {
            jump(opcode, constant, NEXT, NEXT);
        }

        void jump(final int opcode, final int constant, final int ifTrue, final int ifFalse)
        {
            code[length] = (short)opcode;
            k[length] = constant;
            trueLabel[length] = ifTrue;
            falseLabel[length] = ifFalse;
            length++;
        }

        /** A jump taken whatever A holds (A >= 0, unsigned), so that jt/jf carry it like any other. */
        void always(final int label)
        {
            jump(BPF_JMP | BPF_JGE | BPF_K, 0, label, label);
        }

        void label(final int label)
        {
            labelAt[label] = length;
        }

        Assembler resolve()
        {
            for (int i = 0; i < length; i++)
            {
                jt[i] = (byte)skip(i, trueLabel[i]);
                jf[i] = (byte)skip(i, falseLabel[i]);
            }
            return this;
        }

        private int skip(final int from, final int label)
        {
            if (label == NEXT)
            {
                return 0;
            }
            final int target = labelAt[label];
            if (target <= from || target - from - 1 > 255)
            {
                throw new IllegalStateException("jump from " + from + " to label " + label + " at " + target);
            }
            return target - from - 1;
        }
    }
}
