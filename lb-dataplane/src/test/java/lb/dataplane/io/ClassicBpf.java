package lb.dataplane.io;

import java.nio.ByteOrder;
import org.agrona.concurrent.UnsafeBuffer;

import static lb.dataplane.io.FanoutProgram.*;

/**
 * A classic-BPF interpreter for tests, modelled on the kernel's semantics for a frame received on
 * an Ethernet device: {@code skb->data} is the network header (the link-layer header is pulled),
 * a single 802.1Q tag has been taken out of the frame, {@code SKF_NET_OFF}/{@code SKF_LL_OFF}
 * loads are relative to the network/link-layer header, the protocol ancillary load gives the
 * EtherType, and a load outside the frame, or a division by a zero X, ends the program with 0.
 * 32-bit unsigned ALU.
 */
final class ClassicBpf
{
    private static final int ETHERNET_HEADER = 14;
    private static final int VLAN_TAG = 4;
    private static final int ETHER_TYPE_VLAN = 0x8100;

    private ClassicBpf()
    {
    }

    /** Thrown inside {@link #run} when the program reads outside the frame: the program returns 0. */
    private static final class OutOfFrame extends RuntimeException
    {
        OutOfFrame()
        {
            super(null, null, false, false);
        }
    }

    /** Runs the program on an Ethernet frame as the kernel's fanout would on receive. */
    static int run(final FanoutProgram program, final byte[] frame)
    {
        byte[] bytes = frame;
        int etherType = ((frame[12] & 0xFF) << 8) | (frame[13] & 0xFF);
        if (etherType == ETHER_TYPE_VLAN)
        {
            // The receive path moves the tag into skb metadata: the frame is then untagged.
            bytes = new byte[frame.length - VLAN_TAG];
            System.arraycopy(frame, 0, bytes, 0, 12);
            System.arraycopy(frame, 16, bytes, 12, frame.length - 16);
            etherType = ((bytes[12] & 0xFF) << 8) | (bytes[13] & 0xFF);
        }
        try
        {
            return execute(program, new UnsafeBuffer(bytes), etherType);
        }
        catch (final OutOfFrame ex)
        {
            return 0;
        }
    }

    private static int execute(final FanoutProgram p, final UnsafeBuffer frame, final int etherType)
    {
        final int[] memory = new int[16];
        int a = 0;
        int x = 0;
        int pc = 0;
        for (int steps = 0; steps < 4096; steps++)
        {
            final int code = p.code(pc);
            final int k = p.k(pc);
            final int cls = code & 0x07;
            switch (cls)
            {
                case BPF_LD:
                    a = load(code, k, x, a, memory, frame, etherType);
                    break;
                case BPF_LDX:
                    x = loadX(code, k, memory, frame);
                    break;
                case BPF_ST:
                    memory[k] = a;
                    break;
                case BPF_STX:
                    memory[k] = x;
                    break;
                case BPF_ALU:
                    a = alu(code & 0xF0, a, (code & BPF_X) != 0 ? x : k);
                    break;
                case BPF_JMP:
                {
                    final int operand = (code & BPF_X) != 0 ? x : k;
                    final int op = code & 0xF0;
                    if (op == BPF_JA)
                    {
                        pc += k;
                    }
                    else
                    {
                        final boolean taken = switch (op)
                        {
                            case BPF_JEQ -> a == operand;
                            case BPF_JGT -> Integer.compareUnsigned(a, operand) > 0;
                            case BPF_JGE -> Integer.compareUnsigned(a, operand) >= 0;
                            case BPF_JSET -> (a & operand) != 0;
                            default -> throw new IllegalArgumentException("jump op 0x" + Integer.toHexString(op));
                        };
                        pc += taken ? p.jt(pc) : p.jf(pc);
                    }
                    break;
                }
                case BPF_RET:
                    return (code & 0x18) == BPF_A ? a : k;
                case BPF_MISC:
                    if ((code & 0xF8) == BPF_TXA)
                    {
                        a = x;
                    }
                    else
                    {
                        x = a;
                    }
                    break;
                default:
                    throw new IllegalArgumentException("class " + cls);
            }
            pc++;
        }
        throw new IllegalStateException("program did not return");
    }

    private static int load(final int code, final int k, final int x, final int a, final int[] memory,
        final UnsafeBuffer frame, final int etherType)
    {
        final int mode = code & 0xE0;
        final int size = code & 0x18;
        switch (mode)
        {
            case BPF_IMM:
                return k;
            case BPF_MEM:
                return memory[k];
            case BPF_LEN:
                return frame.capacity() - ETHERNET_HEADER;
            case BPF_ABS:
                if (k >= SKF_AD_OFF && k < 0)
                {
                    if (k - SKF_AD_OFF == SKF_AD_PROTOCOL)
                    {
                        return etherType;
                    }
                    throw new IllegalArgumentException("ancillary load " + (k - SKF_AD_OFF));
                }
                return read(frame, k, size);
            case BPF_IND:
                return read(frame, x + k, size);
            default:
                throw new IllegalArgumentException("load mode 0x" + Integer.toHexString(mode) + " (A was " + a + ")");
        }
    }

    private static int loadX(final int code, final int k, final int[] memory, final UnsafeBuffer frame)
    {
        switch (code & 0xE0)
        {
            case BPF_IMM:
                return k;
            case BPF_MEM:
                return memory[k];
            case BPF_LEN:
                return frame.capacity() - ETHERNET_HEADER;
            case BPF_MSH:
                return (read(frame, k, BPF_B) & 0xF) << 2;
            default:
                throw new IllegalArgumentException("ldx mode 0x" + Integer.toHexString(code & 0xE0));
        }
    }

    /** A load at a BPF offset: from skb->data (the network header) or relative to a header. */
    private static int read(final UnsafeBuffer frame, final int offset, final int size)
    {
        final int at;
        if (offset >= 0)
        {
            at = ETHERNET_HEADER + offset;
        }
        else if (offset >= SKF_NET_OFF)
        {
            at = ETHERNET_HEADER + offset - SKF_NET_OFF;
        }
        else if (offset >= SKF_LL_OFF)
        {
            at = offset - SKF_LL_OFF;
        }
        else
        {
            throw new OutOfFrame();
        }
        final int bytes = size == BPF_W ? 4 : size == BPF_H ? 2 : 1;
        if (at < 0 || at + bytes > frame.capacity())
        {
            throw new OutOfFrame();
        }
        return switch (size)
        {
            case BPF_W -> frame.getInt(at, ByteOrder.BIG_ENDIAN);
            case BPF_H -> frame.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            default -> frame.getByte(at) & 0xFF;
        };
    }

    private static int alu(final int op, final int a, final int operand)
    {
        switch (op)
        {
            case BPF_ADD:
                return a + operand;
            case BPF_SUB:
                return a - operand;
            case BPF_MUL:
                return a * operand;
            case BPF_DIV:
                if (operand == 0)
                {
                    throw new OutOfFrame();
                }
                return Integer.divideUnsigned(a, operand);
            case BPF_MOD:
                if (operand == 0)
                {
                    throw new OutOfFrame();
                }
                return Integer.remainderUnsigned(a, operand);
            case BPF_OR:
                return a | operand;
            case BPF_AND:
                return a & operand;
            case BPF_XOR:
                return a ^ operand;
            case BPF_LSH:
                return a << operand;
            case BPF_RSH:
                return a >>> operand;
            case BPF_NEG:
                return -a;
            default:
                throw new IllegalArgumentException("alu op 0x" + Integer.toHexString(op));
        }
    }
}
