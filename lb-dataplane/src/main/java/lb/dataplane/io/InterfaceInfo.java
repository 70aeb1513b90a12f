package lb.dataplane.io;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

import static lb.dataplane.io.PacketConstants.*;

/**
 * What the kernel says about one network interface of the calling thread's network namespace:
 * index, MAC, MTU and flags, read with the {@code SIOCGIF*} ioctls.
 */
public final class InterfaceInfo
{
    private final String name;
    private final int index;
    private final long mac;
    private final int hardwareType;
    private final int mtu;
    private final int flags;

    private InterfaceInfo(
        final String name, final int index, final long mac, final int hardwareType, final int mtu, final int flags)
    {
        this.name = name;
        this.index = index;
        this.mac = mac;
        this.hardwareType = hardwareType;
        this.mtu = mtu;
        this.flags = flags;
    }

    /**
     * Look an interface up by name in the calling thread's network namespace.
     *
     * @param name interface name, e.g. "eth0".
     * @return its index, MAC, MTU and flags.
     * @throws PacketIoException with a one-line message, e.g. {@code interface 'srv9': No such device}.
     */
    public static InterfaceInfo lookup(final String name)
    {
        checkName(name);
        final LibC libc = Native.LIBC;
        // Any socket will do for SIOCGIF*; an AF_INET datagram socket needs no privilege.
        final int fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw PacketIoException.ofErrno("interface '" + name + "': cannot open a socket for ioctl", Native.errno());
        }

        try
        {
            final Native.Scratch ifreq = new Native.Scratch(IFREQ_LENGTH);
            final int index = ioctl(fd, ifreq, name, SIOCGIFINDEX).getInt(IFREQ_IFINDEX_OFFSET);
            final UnsafeBuffer hw = ioctl(fd, ifreq, name, SIOCGIFHWADDR);
            final int hardwareType = hw.getShort(IFREQ_HWADDR_FAMILY_OFFSET) & 0xFFFF;
            long mac = 0;
            for (int i = 0; i < 6; i++)
            {
                mac = (mac << 8) | (hw.getByte(IFREQ_HWADDR_DATA_OFFSET + i) & 0xFF);
            }
            final int mtu = ioctl(fd, ifreq, name, SIOCGIFMTU).getInt(IFREQ_MTU_OFFSET);
            final int flags = ioctl(fd, ifreq, name, SIOCGIFFLAGS).getShort(IFREQ_FLAGS_OFFSET) & 0xFFFF;

            return new InterfaceInfo(name, index, mac, hardwareType, mtu, flags);
        }
        finally
        {
            libc.close(fd);
        }
    }

    static void checkName(final String name)
    {
        if (null == name || name.isEmpty())
        {
            throw new PacketIoException("interface name is empty", 0);
        }
        if (name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ)
        {
            throw new PacketIoException(
                "interface '" + name + "': name longer than " + (IFNAMSIZ - 1) + " bytes", 0);
        }
    }

    private static UnsafeBuffer ioctl(
        final int fd, final Native.Scratch ifreq, final String name, final long request)
    {
        ifreq.buffer.setMemory(0, IFREQ_LENGTH, (byte)0);
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        ifreq.buffer.putBytes(IFREQ_NAME_OFFSET, bytes);
        if (Native.LIBC.ioctl(fd, request, ifreq.pointer) < 0)
        {
            throw PacketIoException.ofErrno("interface '" + name + "'", Native.errno());
        }
        return ifreq.buffer;
    }

    /** @return the interface name. */
    public String name()
    {
        return name;
    }

    /** @return the interface index (ifindex). */
    public int index()
    {
        return index;
    }

    /** @return the MAC address in the low 48 bits, e.g. {@code 0x020000000001L}. */
    public long mac()
    {
        return mac;
    }

    /** @return the ARPHRD_* hardware type; 1 is Ethernet. */
    public int hardwareType()
    {
        return hardwareType;
    }

    /** @return true for an Ethernet interface (ARPHRD_ETHER). */
    public boolean isEthernet()
    {
        return ARPHRD_ETHER == hardwareType;
    }

    /** @return the MTU in bytes (IP packet size, without the Ethernet header). */
    public int mtu()
    {
        return mtu;
    }

    /** @return the IFF_* flags (low 16 bits). */
    public int flags()
    {
        return flags;
    }

    /** @return true when IFF_UP is set (administratively up). */
    public boolean isUp()
    {
        return (flags & IFF_UP) != 0;
    }

    /** @return true when IFF_RUNNING is set (the link is up, e.g. a veth's peer is up). */
    public boolean isRunning()
    {
        return (flags & IFF_RUNNING) != 0;
    }

    /**
     * Format a MAC held in the low 48 bits of a long.
     *
     * @param mac the address.
     * @return e.g. "02:00:00:00:00:01".
     */
    public static String formatMac(final long mac)
    {
        final StringBuilder text = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8)
        {
            if (shift != 40)
            {
                text.append(':');
            }
            final int octet = (int)(mac >>> shift) & 0xFF;
            text.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
        }
        return text.toString();
    }

    @Override
    public String toString()
    {
        return name + " index=" + index + " mac=" + formatMac(mac) + " mtu=" + mtu +
            (isUp() ? " UP" : " DOWN") + (isRunning() ? " RUNNING" : "");
    }
}
