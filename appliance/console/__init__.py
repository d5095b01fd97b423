"""The technician's serial console (ttyS0 at 115200 on the image).

``terminal`` does line input and output over pyserial, ``session`` is the sign-in and
menu loop, ``sysinfo`` reads the machine's health, ``pbxview`` asks Asterisk over AMI,
and ``__main__`` is the composition root of the console's own process, which the
appliance's supervisor runs when ``serial_device`` is set.
"""
