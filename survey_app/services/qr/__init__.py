"""The survey in the physical world: QR codes and the addresses they hold, printed posters
and cut-out slips (and the PDF plumbing they share), one-time codes, the typeable code
alphabet they and petition tracking codes use, and kiosk tablets at a counter."""
